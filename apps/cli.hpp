// The qrsim command line: each subcommand lives in its own cmd_<name>.cpp and adds
// itself to the app with one register_<name>() function; run_cli parses and maps every
// failure to one "qrsim: error: ..." line and an exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace qrsim::app {

void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_run(CLI::App& app);
void register_convert(CLI::App& app);
void register_sweep(CLI::App& app);
void register_report(CLI::App& app);
void register_import_nir(CLI::App& app);
void register_export_nir(CLI::App& app);
void register_rules(CLI::App& app);

// Exit codes: 0 success (or --help), 2 bad command line or config, 1 runtime error.
int run_cli(CLI::App& app, int argc, char** argv);

}  // namespace qrsim::app
