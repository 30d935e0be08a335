// Carries the shared precompiled header (see tests/CMakeLists.txt).
#include "pch.hpp"
