// qrsim eval: test-set accuracy of a trained network read from a checkpoint. The task
// settings default to those stored in the checkpoint; the network is the checkpoint's.
#include "apps/cli.hpp"
#include "apps/flags.hpp"
#include "apps/path_guard.hpp"
#include "apps/report.hpp"
#include "common/checkpoint.hpp"
#include "learning_rules/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace qrsim::app {

namespace {

struct EvalCommand {
    ConfigFlags flags;
    std::string net;
    std::string report;
};

void run_eval(const EvalCommand& cmd) {
    const auto start = std::chrono::steady_clock::now();
    const Checkpoint cp = load_checkpoint(cmd.net);
    Config config = cmd.flags.resolve(raw_from_json(cp.config, "checkpoint " + cmd.net + " config"));
    config.network = cp.params;  // the weights' shapes and dynamics, whatever a flag said
    PathGuard paths;
    paths.input("--net", cmd.net);
    cmd.flags.add_inputs(paths, config);
    paths.output("--report", cmd.report);
    paths.check();

    const std::unique_ptr<Task> task = make_task(config.task);
    const TaskInfo& info = task->info();
    if (info.n_inputs != cp.params.n_in || info.n_classes != cp.params.n_out)
        throw std::runtime_error("network in " + cmd.net + " has " + std::to_string(cp.params.n_in) +
                                 " inputs and " + std::to_string(cp.params.n_out) + " outputs, task " +
                                 info.name + " has " + std::to_string(info.n_inputs) + " and " +
                                 std::to_string(info.n_classes));
    const EvalResult test = evaluate_weights(cp.params, cp.weights, *task, Split::test, -1, config.train.threads);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::printf("%s, %d neurons (%d ALIF) from %s: test accuracy %.2f %% on %d samples (loss %.4f, %.1f Hz), %.1f s\n",
                info.name.c_str(), cp.params.n_rec, cp.params.n_alif, cmd.net.c_str(), 100 * test.accuracy,
                test.samples, test.loss, test.mean_rate_hz, wall);
    if (!cmd.report.empty()) {
        nlohmann::json report = base_report("eval", config);
        report["test_accuracy"] = test.accuracy;
        report["test_loss"] = test.loss;
        report["test_samples"] = test.samples;
        report["mean_rate_hz"] = test.mean_rate_hz;
        report["test_confusion"] = test.confusion;  // [label][prediction]
        report["wall_time_s"] = wall;
        report["params"] = params_to_json(cp.params);
        report["checkpoint"] = cmd.net;
        paths.create_output_dirs();
        write_report(cmd.report, report);
        std::printf("report: %s\n", cmd.report.c_str());
    }
}

}  // namespace

void register_eval(CLI::App& app) {
    auto cmd = std::make_shared<EvalCommand>();
    CLI::App* sub = app.add_subcommand("eval", "Evaluate a trained network on the test split");
    sub->add_option("--net", cmd->net, "checkpoint written by qrsim train --checkpoint")
        ->type_name("FILE")
        ->required();
    cmd->flags.add_to(*sub, ConfigFlags::data);
    sub->add_option("--report", cmd->report, "write a JSON report here")->type_name("FILE.json");
    sub->callback([cmd] { run_eval(*cmd); });
}

}  // namespace qrsim::app
