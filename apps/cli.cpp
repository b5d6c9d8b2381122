#include "apps/cli.hpp"

#include "apps/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>
#include <string>
#include <vector>

namespace qrsim::app {

namespace {

// Always exactly one line, so scripts can grep for it.
int fail(int code, std::string message) {
    for (char& c : message)
        if (c == '\n' || c == '\r') c = ' ';
    constexpr size_t kMaxLine = 1000;  // a message quoting a huge value must stay readable
    if (message.size() > kMaxLine) message = message.substr(0, kMaxLine) + "...";
    std::fflush(stdout);
    std::fprintf(stderr, "qrsim: error: %s\n", message.c_str());
    return code;
}

// Levenshtein distance, for "did you mean" on a mistyped subcommand.
size_t distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// The first word when it is not a subcommand: CLI11 would only say "A subcommand is required".
std::string unknown_subcommand(const CLI::App& app, int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') return "";
    const std::string word = argv[1];
    std::string names, closest;
    size_t best = 3;  // suggest only near misses
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        const std::string& name = sub->get_name();
        if (name == word) return "";
        names += (names.empty() ? "" : ", ") + name;
        if (const size_t d = distance(word, name); d < best) best = d, closest = name;
    }
    return "unknown subcommand '" + word + "'" + (closest.empty() ? "" : " (did you mean " + closest + "?)") +
           "; subcommands: " + names + " (see qrsim --help)";
}

}  // namespace

int run_cli(CLI::App& app, int argc, char** argv) {
    if (const std::string unknown = unknown_subcommand(app, argc, argv); !unknown.empty()) return fail(2, unknown);
    try {
        app.parse(argc, argv);  // the chosen subcommand runs inside, as its callback
        return 0;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        return fail(2, std::string(e.what()) + " (see qrsim --help)");
    } catch (const ConfigError& e) {  // UsageError, and the libraries' config loaders
        return fail(2, e.what());
    } catch (const std::bad_alloc&) {
        return fail(1, "out of memory (an input asks for more memory than this machine has; check its sizes)");
    } catch (const nlohmann::json::exception& e) {
        // Every reader names its fields itself; this is a bug's last line of defence, so
        // the library's text is replaced by where it came from.
        return fail(1, std::string("malformed JSON value (internal error ") + std::to_string(e.id) +
                           "; please report the input that caused it)");
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}

}  // namespace qrsim::app
