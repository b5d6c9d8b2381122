// Catch2 entry point for test executables without SystemC.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
