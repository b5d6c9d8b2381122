// qrsim: the one command-line tool. Subcommands are in apps/cmd_<name>.cpp.
#include "apps/cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"qrsim: simulator of a neuromorphic tile that learns on chip", "qrsim"};
    app.require_subcommand(1);
    qrsim::app::register_train(app);
    qrsim::app::register_eval(app);
    qrsim::app::register_run(app);
    qrsim::app::register_convert(app);
    qrsim::app::register_sweep(app);
    qrsim::app::register_report(app);
    qrsim::app::register_import_nir(app);
    qrsim::app::register_export_nir(app);
    qrsim::app::register_rules(app);
    return qrsim::app::run_cli(app, argc, argv);
}
