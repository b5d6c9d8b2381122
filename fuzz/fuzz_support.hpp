// Shared by the fuzz targets: a parser given arbitrary bytes may only throw the errors it
// documents (std::runtime_error and its ConfigError / UsageError) -- anything else
// (a crash, a sanitizer report, std::logic_error, a json exception escaping, bad_alloc)
// is a finding. libFuzzer aborts on the uncaught exception, so it is saved as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace qrsim::fuzz {

template <class F>
int expect_clean_errors(F&& parse) {
    try {
        parse();
    } catch (const nlohmann::json::exception&) {
        throw;  // library text would reach the user: a finding
    } catch (const std::logic_error&) {
        throw;  // an internal invariant broke: a finding
    } catch (const std::runtime_error&) {
        // The documented, one-line error for bad input.
    }
    return 0;
}

inline std::string text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

}  // namespace qrsim::fuzz
