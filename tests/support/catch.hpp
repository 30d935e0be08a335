// One include for Catch2 2.13 and Catch2 v3, chosen by SALAMA_CATCH2_MAJOR (set by CMake).
// Tests stay within TEST_CASE, SECTION, REQUIRE, CHECK, GENERATE, TEMPLATE_TEST_CASE,
// STATIC_REQUIRE and Approx, which both versions spell the same way.
#pragma once

#if defined(SALAMA_CATCH2_MAJOR) && SALAMA_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif
