// qrsim train: float reference training, epoch by epoch, then a test-set evaluation,
// a checkpoint and a report. Everything that can be checked is checked before the first
// epoch, and files are written only at the end, atomically: a failed or interrupted run
// leaves no partial output.
#include "apps/cli.hpp"
#include "apps/flags.hpp"
#include "apps/learning_curve.hpp"
#include "apps/path_guard.hpp"
#include "apps/progress.hpp"
#include "apps/report.hpp"
#include "common/atomic_file.hpp"
#include "common/checkpoint.hpp"
#include "learning_rules/constrained_group.hpp"
#include "learning_rules/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace qrsim::app {

namespace {

struct TrainCommand {
    ConfigFlags flags;
    std::string report;
    std::string checkpoint;
    bool eval_every_epoch = false;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One group's levels for the report: the dynapse bases by type, the uniform scale.
nlohmann::json levels_json(const GroupQuant& q, const std::optional<BaseChoiceInfo>& choice) {
    nlohmann::json j = {{"kind", to_string(q.kind)}};
    if (q.kind == WeightKind::uniform) j["scale"] = q.scale;
    if (q.kind == WeightKind::dynapse1) {
        j["exc_small"] = q.base[0];
        j["exc_large"] = q.base[1];
        j["inh_small"] = q.base[2];
        j["inh_large"] = q.base[3];
        j["exc_ratio"] = q.base[1] / q.base[0];
        j["inh_ratio"] = q.base[3] / q.base[2];
    }
    if (q.kind == WeightKind::dynapse2) j["bases"] = q.base;
    if (choice)
        j["base_choice"] = {{"cost", choice->optimised_cost},
                            {"ladder_cost", choice->ladder_cost},
                            {"evaluations", choice->evaluations}};
    return j;
}

void run_train(const TrainCommand& cmd) {
    const auto start = std::chrono::steady_clock::now();
    const Config config = cmd.flags.resolve();
    PathGuard paths;
    cmd.flags.add_inputs(paths, config);
    paths.output("--report", cmd.report);
    paths.output("--checkpoint", cmd.checkpoint);
    paths.check();

    const std::unique_ptr<Task> task = make_task(config.task);  // checks the dataset
    const TaskInfo& info = task->info();
    RsnnParams params = config.network;
    params.n_in = info.n_inputs;
    params.n_out = info.n_classes;
    Trainer trainer(params, config.train, config.seed);

    const int epochs = config.train.epochs;
    const int train_size = task->size(Split::train);
    std::fprintf(stderr, "qrsim train: %s, %d neurons (%d ALIF), %s/%s, %d train + %d test samples, %d epoch%s\n",
                 info.name.c_str(), params.n_rec, params.n_alif, config.train.rule.c_str(),
                 config.train.optimizer.c_str(), train_size, task->size(Split::test), epochs,
                 epochs == 1 ? "" : "s");

    nlohmann::json history = nlohmann::json::array();
    LearningCurve curve;
    EpochResult last;
    EvalResult test;
    double train_seconds = 0;
    double samples_trained = 0;
    {
        ProgressDisplay progress(stderr);
        for (int epoch = 1; epoch <= epochs; ++epoch) {
            last = trainer.train_epoch(*task, [&](const Progress& p) {
                Progress shown = p;  // the trainer knows the epoch, only the CLI knows the total
                shown.epoch = epoch;
                shown.epochs = epochs;
                progress.update(shown);
                curve.add(shown);
            });
            curve.end_epoch(train_size);
            progress.finish_line();
            train_seconds += last.wall_s;
            samples_trained += train_size;
            nlohmann::json entry = {{"epoch", epoch},
                                    {"train_accuracy", last.train_accuracy},
                                    {"train_loss", last.train_loss},
                                    {"samples_per_s", last.samples_per_s},
                                    {"wall_s", last.wall_s}};
            if (cmd.eval_every_epoch || epoch == epochs) {
                test = trainer.evaluate(*task, Split::test);
                entry["test_accuracy"] = test.accuracy;
                entry["test_loss"] = test.loss;
                if (cmd.eval_every_epoch)
                    std::fprintf(stderr, "epoch %d/%d: train accuracy %.2f %%, test accuracy %.2f %%\n", epoch,
                                 epochs, 100 * last.train_accuracy, 100 * test.accuracy);
            }
            history.push_back(std::move(entry));
        }
    }
    const double samples_per_s = train_seconds > 0 ? samples_trained / train_seconds : last.samples_per_s;
    const double wall = seconds_since(start);

    std::printf("%s, %d neurons (%d ALIF), %s: %d epoch%s, %.1f s training (%.0f samples/s), %.1f s total\n",
                info.name.c_str(), params.n_rec, params.n_alif, config.train.rule.c_str(), epochs,
                epochs == 1 ? "" : "s", train_seconds, samples_per_s, wall);
    std::printf("train accuracy %.2f %% (last epoch)   test accuracy %.2f %% on %d samples\n",
                100 * last.train_accuracy, 100 * test.accuracy, test.samples);

    const ConstraintReport constraint = trainer.constraint_report();
    if (config.train.method != "dense")
        std::printf("constraint %s K=%d (%s): %lld violations during training (%lld updates checked), "
                    "%lld now, max fan-in %d\n",
                    to_string(config.train.constraint.kind).c_str(), config.train.constraint.fanin,
                    config.train.method.c_str(), constraint.violations_during_training, constraint.updates_checked,
                    constraint.violations, constraint.max_fanin);
    if (config.train.method != "dense" && config.train.constraint.kind == WeightKind::dynapse1) {
        const GroupQuant& h = constraint.hidden_levels;
        const GroupQuant& o = constraint.readout_levels;
        std::printf("dynapse1 bases (%s): hidden small %.5g, large exc %.5g (x%.3f) inh %.5g (x%.3f); "
                    "readout small %.5g, large exc %.5g (x%.3f) inh %.5g (x%.3f)\n",
                    config.train.bases.c_str(), h.base[0], h.base[1], h.base[1] / h.base[0], h.base[3],
                    h.base[3] / h.base[2], o.base[0], o.base[1], o.base[1] / o.base[0], o.base[3],
                    o.base[3] / o.base[2]);
    }
    if (config.train.method != "dense" && config.train.constraint.kind == WeightKind::dynapse2) {
        const GroupQuant& h = constraint.hidden_levels;
        const GroupQuant& o = constraint.readout_levels;
        std::printf("dynapse2 bases (%s): hidden s = %.5g x 1 : %.3f : %.3f : %.3f; readout s = %.5g x 1 : %.3f : %.3f : "
                    "%.3f\n",
                    config.train.bases.c_str(), h.base[0], h.base[1] / h.base[0], h.base[2] / h.base[0],
                    h.base[3] / h.base[0], o.base[0], o.base[1] / o.base[0], o.base[2] / o.base[0], o.base[3] / o.base[0]);
    }

    // Both outputs are staged, then renamed together: a failure on one leaves neither.
    std::vector<StagedFile> outputs;
    paths.create_output_dirs();
    if (!cmd.checkpoint.empty())
        outputs.emplace_back(cmd.checkpoint, checkpoint_text(trainer.deployable_checkpoint(config_to_json(config))));
    if (!cmd.report.empty()) {
        nlohmann::json report = base_report("train", config);
        report["test_accuracy"] = test.accuracy;
        report["test_loss"] = test.loss;
        report["test_samples"] = test.samples;
        report["mean_rate_hz"] = test.mean_rate_hz;
        report["test_confusion"] = test.confusion;  // [label][prediction]
        report["train_accuracy"] = last.train_accuracy;
        report["train_samples_per_s"] = samples_per_s;
        report["train_seconds"] = train_seconds;
        report["epochs"] = epochs;
        report["wall_time_s"] = seconds_since(start);
        report["epoch_history"] = std::move(history);
        report["train_curve"] = curve.points();
        report["params"] = params_to_json(params);
        report["checkpoint"] = cmd.checkpoint.empty() ? nlohmann::json() : nlohmann::json(cmd.checkpoint);
        report["constraint_violations"] = constraint.violations_during_training + constraint.violations;
        report["constraint_violations_during_training"] = constraint.violations_during_training;
        report["constraint_updates_checked"] = constraint.updates_checked;
        report["max_fanin"] = std::max(constraint.max_fanin, constraint.max_fanin_during_training);
        report["fanin_entries"] = constraint.entries;
        report["memory_bits"] = network_memory_bits(config.train.constraint, params.n_in, params.n_rec, params.n_out);
        if (config.train.method != "dense" && config.train.constraint.kind != WeightKind::none)
            report["constraint_levels"] = {
                {"bases", config.train.bases},
                {"hidden", levels_json(constraint.hidden_levels, constraint.hidden_base_choice)},
                {"readout", levels_json(constraint.readout_levels, constraint.readout_base_choice)}};
        outputs.emplace_back(cmd.report, report_text(report));
    }
    for (StagedFile& f : outputs) f.commit();
    if (!cmd.checkpoint.empty()) std::printf("checkpoint: %s\n", cmd.checkpoint.c_str());
    if (!cmd.report.empty()) std::printf("report: %s\n", cmd.report.c_str());
}

}  // namespace

void register_train(CLI::App& app) {
    auto cmd = std::make_shared<TrainCommand>();  // shared with the callback, lives as long as the app
    CLI::App* sub = app.add_subcommand("train", "Train a network with the float reference (BPTT or e-prop)");
    cmd->flags.add_to(*sub, ConfigFlags::all);
    sub->add_option("--report", cmd->report, "write a JSON report here")->type_name("FILE.json");
    sub->add_option("--checkpoint", cmd->checkpoint, "write the trained network here")->type_name("FILE");
    sub->add_flag("--eval-every-epoch", cmd->eval_every_epoch, "evaluate on the test split after every epoch");
    sub->callback([cmd] { run_train(*cmd); });
}

}  // namespace qrsim::app
