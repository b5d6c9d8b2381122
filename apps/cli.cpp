#include "apps/cli.hpp"

#include "apps/config.hpp"

#include <cstdio>
#include <string>

namespace qrsim::app {

namespace {

// Always exactly one line, so scripts can grep for it.
int fail(int code, std::string message) {
    for (char& c : message)
        if (c == '\n' || c == '\r') c = ' ';
    std::fflush(stdout);
    std::fprintf(stderr, "qrsim: error: %s\n", message.c_str());
    return code;
}

}  // namespace

int run_cli(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);  // the chosen subcommand runs inside, as its callback
        return 0;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        return fail(2, std::string(e.what()) + " (see qrsim --help)");
    } catch (const UsageError& e) {
        return fail(2, e.what());
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}

}  // namespace qrsim::app
