// The precompiled header shared by every test executable: the heavy, stable headers.
#pragma once
#include "catch.hpp"
#include <salama/salama.hpp>
#include <boost/asio.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <string>
#include <vector>
