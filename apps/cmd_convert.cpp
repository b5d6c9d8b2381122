// qrsim convert: train (or load) a float ANN on Fashion-MNIST, convert it layer by layer into
// a constrained spiking network for the tile (learning_rules/layerwise_conversion.hpp),
// evaluate the float SNN on the test split and write a checkpoint `qrsim eval/run --net`
// load (task fmnist-rate) and a report.
#include "apps/cli.hpp"
#include "apps/config.hpp"
#include "apps/flags.hpp"
#include "apps/path_guard.hpp"
#include "apps/report.hpp"
#include "common/atomic_file.hpp"
#include "common/checkpoint.hpp"
#include "learning_rules/layerwise_conversion.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace qrsim::app {

namespace {

struct ConvertCommand {
    std::string ann = "mlp";
    std::string ann_load, ann_save;
    int ann_epochs = 10;
    int ann_fanin = 0;
    int ann_weight_bits = 0;
    std::string constraint = "uniform";
    int fanin = 64;
    int weight_bits = 4;
    std::string prune_to;
    std::string method = "fit";
    std::string solver = "lsq";
    std::string bias = "register";
    int lut_frac_bits = 10;
    int samples = 1500;
    int train_samples = -1;
    int test_samples = -1;
    std::string data_dir = TaskOptions{}.data_dir;
    std::string latency_sweep;
    std::string checkpoint, report;
    uint64_t seed = 1;
    int threads = 2;
};

// A whole decimal number in [lo, hi] (std::stoi would read "1e3" as 1 and "12x" as 12).
int strict_int(const std::string& item, int lo, int hi, const std::string& flag, const std::string& text) {
    int v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v < lo || v > hi)
        throw UsageError(flag + " " + text + ": '" + item + "' is not a whole number in " + std::to_string(lo) + ".." +
                         std::to_string(hi));
    return v;
}

// --prune-to: "128,64" (neurons per hidden layer) or one fraction "0.5" of every hidden
// layer. Parsed before any work; the sizes are checked against the ANN by prune_sizes.
struct PruneSpec {
    double fraction = 0;     // > 0: a fraction
    std::vector<int> sizes;  // else: per hidden layer
};

PruneSpec parse_prune(const std::string& text) {
    PruneSpec spec;
    if (text.empty()) return spec;
    if (text.find(',') == std::string::npos && text.find('.') != std::string::npos) {
        char* end = nullptr;
        spec.fraction = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() || !(spec.fraction > 0 && spec.fraction <= 1))
            throw UsageError("--prune-to " + text + ": a fraction must be a number in (0, 1]");
        return spec;
    }
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) spec.sizes.push_back(strict_int(item, 1, 1000000, "--prune-to", text));
    if (spec.sizes.empty()) throw UsageError("--prune-to " + text + ": give sizes N1,N2,... or a fraction like 0.5");
    return spec;
}

std::vector<int> prune_sizes(const PruneSpec& spec, const std::string& text, const Ann& ann) {
    std::vector<int> sizes;
    const int hidden = static_cast<int>(ann.layers.size()) - 1;
    if (spec.fraction > 0) {
        for (int l = 0; l < hidden; ++l)
            sizes.push_back(std::max(1, static_cast<int>(std::lround(spec.fraction * ann.layers[l].n_out))));
        return sizes;
    }
    for (const int n : spec.sizes) {
        const int l = static_cast<int>(sizes.size());
        if (l >= hidden || n > ann.layers[l].n_out)
            throw UsageError("--prune-to " + text + ": hidden layer " + std::to_string(l) + " has " +
                             (l < hidden ? std::to_string(ann.layers[l].n_out) : std::string("no")) + " neurons");
        sizes.push_back(n);
    }
    return sizes;
}

// --latency-sweep T1,T2,...: presentation times in steps.
std::vector<int> parse_latency_sweep(const std::string& text) {
    std::vector<int> steps;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) steps.push_back(strict_int(item, 1, 100000, "--latency-sweep", text));
    if (!text.empty() && steps.empty()) throw UsageError("--latency-sweep " + text + ": give times like 16,32,64");
    return steps;
}

Config checkpoint_config(const ConvertCommand& cmd, const RsnnParams& p, const std::string& source) {
    RawConfig raw;
    raw.set("task.name", std::string("fmnist-rate"), source);
    raw.set("task.data_dir", cmd.data_dir, source);
    raw.set("network.neurons", int64_t{p.n_rec}, source);
    raw.set("network.alif", int64_t{0}, source);
    raw.set("network.tau_m", p.tau_m, source);
    raw.set("network.tau_out", p.tau_out, source);
    raw.set("network.v_th", p.v_th, source);
    raw.set("network.beta", p.beta, source);
    raw.set("network.refractory", int64_t{p.refractory}, source);
    raw.set("train.seed", static_cast<int64_t>(cmd.seed), source);
    Config config = resolve(raw);
    config.network = p;
    return config;
}

// The conversion's options from the flags (UsageError on a bad --constraint).
ConversionOptions conversion_options(const ConvertCommand& cmd) {
    if (cmd.ann_weight_bits == 1)
        throw UsageError("--ann-weight-bits 1: use 0 (float weights) or 2..16 bits");
    ConversionOptions o;
    try {
        o.spec.kind = weight_kind_from_string(cmd.constraint);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--constraint: ") + e.what());
    }
    o.spec.fanin = cmd.fanin;
    o.spec.weight_bits = cmd.weight_bits;
    o.method = cmd.method;
    o.solver = cmd.solver;
    o.bias_registers = cmd.bias == "register";
    o.level_lsb = cmd.lut_frac_bits > 0 ? std::ldexp(1.0, -cmd.lut_frac_bits) : 0.0;
    o.samples = cmd.samples;
    o.seed = cmd.seed;
    o.threads = cmd.threads;
    return o;
}

// --ann-load, or the preset trained (and saved with --ann-save); sets o.prune_to, checked
// against the ANN's sizes before any training.
Ann obtain_ann(const ConvertCommand& cmd, const PruneSpec& prune, const ImageSet& train, ConversionOptions& o,
               PathGuard& paths) {
    if (!cmd.ann_load.empty()) {
        Ann ann = load_ann(cmd.ann_load);
        if (ann.n_in() != train.x.cols())
            throw std::runtime_error("--ann-load " + cmd.ann_load + " has " + std::to_string(ann.n_in()) +
                                     " inputs, the images have " + std::to_string(train.x.cols()) + " pixels");
        o.prune_to = prune_sizes(prune, cmd.prune_to, ann);
        std::printf("ann %s loaded from %s\n", ann.name.c_str(), cmd.ann_load.c_str());
        return ann;
    }
    Ann ann = ann_preset(cmd.ann, train.rows, train.cols, cmd.seed);
    o.prune_to = prune_sizes(prune, cmd.prune_to, ann);
    AnnTrainOptions t;
    t.epochs = cmd.ann_epochs;
    t.fanin = cmd.ann_fanin;
    t.weight_bits = cmd.ann_weight_bits;
    t.seed = cmd.seed;
    std::printf("training ann %s: %d epochs on %d images%s%s\n", ann.name.c_str(), t.epochs,
                static_cast<int>(train.x.rows()),
                cmd.ann_fanin > 0 ? (", fan-in " + std::to_string(cmd.ann_fanin)).c_str() : "",
                cmd.ann_weight_bits > 0 ? (", " + std::to_string(cmd.ann_weight_bits) + "-bit weights seen").c_str() : "");
    train_ann(ann, train, t);
    if (!cmd.ann_save.empty()) {
        paths.create_output_dirs();
        save_ann(cmd.ann_save, ann);
    }
    return ann;
}

// The converted network in float on the test images: accuracy and agreement with the ANN.
struct SnnScore {
    double accuracy = 0, agreement = 0;
};

SnnScore score_snn(const Checkpoint& cp, const Task& task, const std::vector<int>& indices,
                   const std::vector<int>& ann_pred, int threads) {
    const SnnRun run = simulate_snn(cp.params, cp.weights, task, Split::test, indices, {}, threads);
    SnnScore s;
    for (size_t i = 0; i < indices.size(); ++i) {
        s.accuracy += run.predictions[i] == task.label(Split::test, indices[i]);
        s.agreement += run.predictions[i] == ann_pred[i];
    }
    s.accuracy /= std::max<size_t>(indices.size(), 1);
    s.agreement /= std::max<size_t>(indices.size(), 1);
    return s;
}

// The flags that need parsing beyond CLI11's checks, parsed before any work.
struct ParsedConvertFlags {
    PruneSpec prune;
    std::vector<int> latency_sweep;
};

ParsedConvertFlags parse_convert_flags(const ConvertCommand& cmd) {
    ParsedConvertFlags f{parse_prune(cmd.prune_to), parse_latency_sweep(cmd.latency_sweep)};
    for (const auto& [flag, n] : {std::pair{"--train-samples", cmd.train_samples}, std::pair{"--test-samples", cmd.test_samples}})
        if (n == 0 || n < -1) throw UsageError(std::string(flag) + " " + std::to_string(n) + ": give -1 (all) or at least 1");
    return f;
}

PathGuard convert_paths(const ConvertCommand& cmd) {
    PathGuard paths;
    paths.input("--ann-load", cmd.ann_load);
    paths.inputs_in("--data", cmd.data_dir);
    paths.output("--report", cmd.report);
    paths.output("--checkpoint", cmd.checkpoint);
    paths.output("--ann-save", cmd.ann_save);
    paths.check();
    return paths;
}

TaskOptions rate_task_options(const ConvertCommand& cmd) {
    TaskOptions t;
    t.name = "fmnist-rate";
    t.data_dir = cmd.data_dir;
    t.train_samples = cmd.train_samples;
    t.test_samples = cmd.test_samples;
    return t;
}

// The images the ANN trains on and the conversion samples, and the test images.
struct ConvertImages {
    ImageSet train, test;
};

ConvertImages load_convert_images(const ConvertCommand& cmd) {
    ConvertImages im{load_fmnist_images(cmd.data_dir, Split::train, cmd.train_samples),
                     load_fmnist_images(cmd.data_dir, Split::test, cmd.test_samples)};
    // Accuracies and the constraint check over no images would be 0/0, reported as success.
    if (im.train.x.rows() == 0 || im.test.x.rows() == 0)
        throw std::runtime_error("dataset " + cmd.data_dir + " has no " + (im.train.x.rows() == 0 ? "training" : "test") +
                                 " images; reinstall dataset-fashion-mnist or pass --data DIR");
    return im;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The ANN and what the converted network is compared with.
struct AnnRun {
    Ann ann;
    std::vector<int> test_predictions;
    double test_accuracy = 0, train_seconds = 0;
};

AnnRun ann_for_conversion(const ConvertCommand& cmd, const ParsedConvertFlags& flags, const ConvertImages& im,
                          ConversionOptions& o, PathGuard& paths) {
    const auto start = std::chrono::steady_clock::now();
    AnnRun a{obtain_ann(cmd, flags.prune, im.train, o, paths), {}, 0, 0};
    a.train_seconds = seconds_since(start);
    a.test_predictions = a.ann.predict(im.test.x);
    a.test_accuracy = a.ann.accuracy(im.test);
    std::printf("ann %s: test accuracy %.2f %%\n", a.ann.name.c_str(), 100 * a.test_accuracy);
    return a;
}

// The converter refuses options it cannot honour with std::invalid_argument: on the command line,
// a usage error (exit 2).
ConversionResult convert_for_cli(const Ann& ann, const ImageSet& train, const Task& task, const ConversionOptions& o) {
    try {
        return convert_ann(ann, train, task, o);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
}

void print_conversion(const ConversionResult& r, const ConvertCommand& cmd, double seconds) {
    for (const LayerFit& f : r.layers)
        std::printf("  %-8s %4d -> %4d neurons, max fan-in %3d, rms error %.4f v_th/step (rel %.3f, relaxed %.4f), "
                    "levels x%.2f, %.1f s\n",
                    f.name.c_str(), f.ann_units, f.neurons, f.max_fanin, f.rms_error, f.rel_error, f.relaxed_rms_error,
                    f.level_scale, f.seconds);
    std::printf("converted (%s, %s, K=%d) in %.1f s; constraint violations: hidden %lld, readout %lld\n",
                cmd.method.c_str(), cmd.constraint.c_str(), cmd.fanin, seconds, r.hidden_check.violations,
                r.readout_check.violations);
}

std::vector<int> first_indices(int n) {
    std::vector<int> indices(n);
    for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int>(i);
    return indices;
}

// The same network presented for other times T (readout window from T/4): latency vs accuracy.
nlohmann::json latency_sweep(const std::vector<int>& steps_list, const ConversionResult& r, const TaskOptions& task_options,
                             const std::vector<int>& indices, const AnnRun& a, int threads) {
    nlohmann::json sweep = nlohmann::json::array();
    for (const int steps : steps_list) {
        RateCoding coding;
        coding.steps = steps;
        coding.readout_begin = std::max(r.pipeline_delay + 1, coding.steps / 4);
        const std::unique_ptr<Task> t = make_rate_task(task_options, coding);
        const SnnScore at = score_snn(r.checkpoint, *t, indices, a.test_predictions, threads);
        std::printf("  T = %4d steps: accuracy %.2f %%, agreement %.2f %%\n", coding.steps, 100 * at.accuracy,
                    100 * at.agreement);
        sweep.push_back({{"steps", coding.steps}, {"readout_begin", coding.readout_begin}, {"test_accuracy", at.accuracy},
                         {"agreement", at.agreement}});
    }
    return sweep;
}

// What one conversion measured, for the report.
struct ConvertRun {
    SnnScore score;
    int test_samples = 0;
    double convert_seconds = 0, eval_seconds = 0, wall_seconds = 0;
    nlohmann::json latency_sweep;
};

nlohmann::json convert_report(const ConvertCommand& cmd, const Config& config, const ConversionOptions& o,
                              const ConversionResult& r, const AnnRun& a, const ConvertRun& run) {
    nlohmann::json report = base_report("convert", config);
    report["test_accuracy"] = run.score.accuracy;
    report["test_samples"] = run.test_samples;
    report["wall_time_s"] = run.wall_seconds;
    report["ann"] = a.ann.name;
    report["ann_accuracy"] = a.test_accuracy;
    report["ann_train_s"] = a.train_seconds;
    report["agreement"] = run.score.agreement;
    report["latency_steps"] = o.coding.steps;
    report["readout_begin"] = o.coding.readout_begin;
    report["pipeline_delay_steps"] = r.pipeline_delay;
    report["convert_s"] = run.convert_seconds;
    report["eval_s"] = run.eval_seconds;
    report["conversion"] = {{"method", cmd.method}, {"solver", cmd.solver}, {"bias", cmd.bias},
                            {"lut_frac_bits", cmd.lut_frac_bits},
                            {"constraint", cmd.constraint},
                            {"fanin", cmd.fanin}, {"weight_bits", cmd.weight_bits}, {"samples", cmd.samples},
                            {"ann_fanin", cmd.ann_fanin}, {"ann_weight_bits", cmd.ann_weight_bits},
                            {"prune_to", o.prune_to}};
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerFit& f : r.layers)
        layers.push_back({{"name", f.name}, {"ann_units", f.ann_units}, {"neurons", f.neurons},
                          {"rate_scale", f.rate_scale}, {"rms_error", f.rms_error}, {"rel_error", f.rel_error},
                          {"relaxed_rms_error", f.relaxed_rms_error}, {"max_fanin", f.max_fanin},
                          {"level_scale", f.level_scale},
                          {"seconds", f.seconds}});
    report["layers"] = layers;
    report["latency_sweep"] = run.latency_sweep;
    report["constraint_violations"] = {{"hidden", r.hidden_check.violations},
                                       {"readout", r.readout_check.violations}};
    report["checkpoint"] = cmd.checkpoint.empty() ? nlohmann::json() : nlohmann::json(cmd.checkpoint);
    return report;
}

// The checkpoint and the report, staged and then renamed together: a failure leaves neither.
void write_convert_outputs(const ConvertCommand& cmd, ConversionResult& r, const Config& config,
                           const nlohmann::json& report, PathGuard& paths) {
    paths.create_output_dirs();
    std::vector<StagedFile> outputs;
    if (!cmd.checkpoint.empty()) {
        r.checkpoint.config = config_to_json(config);
        outputs.emplace_back(cmd.checkpoint, checkpoint_text(r.checkpoint));
    }
    if (!cmd.report.empty()) outputs.emplace_back(cmd.report, report_text(report));
    for (StagedFile& f : outputs) f.commit();
    if (!cmd.checkpoint.empty()) std::printf("checkpoint: %s\n", cmd.checkpoint.c_str());
    if (!cmd.report.empty()) std::printf("report: %s\n", cmd.report.c_str());
}

void run_convert(const ConvertCommand& cmd) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they happen, also in a log
    const auto start = std::chrono::steady_clock::now();
    // Every flag is parsed and every path checked before the first image is read.
    const ParsedConvertFlags flags = parse_convert_flags(cmd);
    PathGuard paths = convert_paths(cmd);
    ConversionOptions o = conversion_options(cmd);
    const TaskOptions task_options = rate_task_options(cmd);
    const std::unique_ptr<Task> task = make_task(task_options);
    const ConvertImages images = load_convert_images(cmd);
    const AnnRun ann = ann_for_conversion(cmd, flags, images, o, paths);

    ConvertRun run;
    const auto convert_start = std::chrono::steady_clock::now();
    ConversionResult r = convert_for_cli(ann.ann, images.train, *task, o);
    run.convert_seconds = seconds_since(convert_start);
    print_conversion(r, cmd, run.convert_seconds);

    const auto eval_start = std::chrono::steady_clock::now();
    const std::vector<int> indices = first_indices(task->size(Split::test));
    run.score = score_snn(r.checkpoint, *task, indices, ann.test_predictions, cmd.threads);
    run.test_samples = static_cast<int>(indices.size());
    run.eval_seconds = seconds_since(eval_start);
    run.wall_seconds = seconds_since(start);
    std::printf("snn: test accuracy %.2f %% (ann %.2f %%), agreement %.2f %% on %d images, %d steps per image, %.1f s\n",
                100 * run.score.accuracy, 100 * ann.test_accuracy, 100 * run.score.agreement, run.test_samples,
                o.coding.steps, run.eval_seconds);
    run.latency_sweep = latency_sweep(flags.latency_sweep, r, task_options, indices, ann, cmd.threads);

    const Config config = checkpoint_config(cmd, r.checkpoint.params, "qrsim convert");
    const nlohmann::json report = cmd.report.empty() ? nlohmann::json() : convert_report(cmd, config, o, r, ann, run);
    write_convert_outputs(cmd, r, config, report, paths);
}

}  // namespace

void register_convert(CLI::App& app) {
    auto cmd = std::make_shared<ConvertCommand>();
    CLI::App* sub = app.add_subcommand("convert", "Convert a trained ANN into a constrained SNN for the tile");
    sub->add_option("--ann", cmd->ann, "ANN to train: mlp (784-256-128-10) or cnn")
        ->check(CLI::IsMember({"mlp", "cnn"}))
        ->capture_default_str();
    sub->add_option("--ann-load", cmd->ann_load, "load the ANN from this file instead of training")->type_name("FILE");
    sub->add_option("--ann-save", cmd->ann_save, "save the trained ANN here")->type_name("FILE");
    sub->add_option("--ann-epochs", cmd->ann_epochs, "ANN training epochs")->check(CLI::Range(1, 1000))->capture_default_str();
    sub->add_option("--ann-fanin", cmd->ann_fanin, "train the ANN's dense layers with this fan-in (0: dense)")
        ->check(CLI::Range(0, 100000))
        ->capture_default_str();
    sub->add_option("--ann-weight-bits", cmd->ann_weight_bits,
                    "train the ANN quantization-aware: its passes see uniform levels of this many bits (0: float)")
        ->check(CLI::Range(0, 16))
        ->capture_default_str();
    sub->add_option("--constraint", cmd->constraint, "weights: none, uniform or dynapse2")
        ->check(CLI::IsMember({"none", "uniform", "dynapse2"}))
        ->capture_default_str();
    sub->add_option("--fanin", cmd->fanin, "K: CAM entries per neuron (0: unlimited)")->check(CLI::Range(0, 100000))->capture_default_str();
    sub->add_option("--weight-bits", cmd->weight_bits, "uniform code bits")->check(CLI::Range(2, 16))->capture_default_str();
    sub->add_option("--prune-to", cmd->prune_to, "hidden layer sizes after node pruning: N1,N2,... or a fraction like 0.5")
        ->type_name("SIZES");
    sub->add_option("--method", cmd->method, "fit (layer-wise constrained fit) or naive (scale and round)")
        ->check(CLI::IsMember({"fit", "naive"}))
        ->capture_default_str();
    sub->add_option("--solver", cmd->solver, "fit: lsq (bounded least squares), l1 or linf (LP, Clp)")
        ->check(CLI::IsMember({"lsq", "l1", "linf"}))
        ->capture_default_str();
    sub->add_option("--bias", cmd->bias,
                    "hidden biases: register (the neuron's bias register) or channel (a synapse from the "
                    "always-on input, one fan-in entry on the weight levels)")
        ->check(CLI::IsMember({"register", "channel"}))
        ->capture_default_str();
    sub->add_option("--lut-frac-bits", cmd->lut_frac_bits,
                    "fit: put the level steps on the tile's LUT grid, 2^-B at v_th = 1 (B = the target hw's "
                    "neuron.membrane_frac_bits; 0: any step)")
        ->check(CLI::Range(0, 30))
        ->capture_default_str();
    sub->add_option("--samples", cmd->samples, "K_s: training images the fit samples")->check(CLI::Range(10, 60000))->capture_default_str();
    sub->add_option("--train-samples", cmd->train_samples, "training images for the ANN and the fit (-1: all)")
        ->capture_default_str();
    sub->add_option("--test-samples", cmd->test_samples, "test images to evaluate (-1: all)")->capture_default_str();
    sub->add_option("--data", cmd->data_dir, "Fashion-MNIST directory (gzip'd IDX files)")->capture_default_str();
    sub->add_option("--seed", cmd->seed, "seed of the ANN and the sampling")->capture_default_str();
    sub->add_option("--threads", cmd->threads, "threads")->check(CLI::Range(1, 64))->capture_default_str();
    sub->add_option("--latency-sweep", cmd->latency_sweep, "also evaluate with these presentation times T")
        ->type_name("T1,T2,...");
    sub->add_option("--checkpoint", cmd->checkpoint, "write the converted network here")->type_name("FILE.json");
    sub->add_option("--report", cmd->report, "write a JSON report here")->type_name("FILE.json");
    sub->callback([cmd] { run_convert(*cmd); });
}

}  // namespace qrsim::app
