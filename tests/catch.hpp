// tests/catch.hpp — the one place that knows which Catch2 is installed (v2 on Debian 12, v3 from vcpkg).
#pragma once
#if defined(SOCKLAB_CATCH2_V3) || __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif
