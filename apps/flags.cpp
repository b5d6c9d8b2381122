#include "apps/flags.hpp"


namespace qrsim::app {

namespace {

struct FlagSpec {
    const char* name;
    const char* metavar;
    const char* key;
    const char* help;
    ConfigFlags::Group group;
};

const FlagSpec kFlags[] = {
    {"--task", "NAME", "task.name", nullptr, ConfigFlags::data},  // help: the names make_task knows
    {"--data", "DIR", "task.data_dir", "Fashion-MNIST directory (gzip'd IDX files)", ConfigFlags::data},
    {"--train-samples", "N", "task.train_samples", "training samples to use, -1: all", ConfigFlags::data},
    {"--test-samples", "N", "task.test_samples", "test samples to use, -1: all", ConfigFlags::data},
    {"--seed", "N", "train.seed", "seed of weights, shuffling and synthetic data", ConfigFlags::data},
    {"--threads", "N", "train.threads", "worker threads", ConfigFlags::data},
    {"--neurons", "N", "network.neurons", "recurrent neurons (LIF + ALIF)", ConfigFlags::network},
    {"--alif", "N", "network.alif", "how many of the recurrent neurons are ALIF", ConfigFlags::network},
    {"--rule", "RULE", "train.rule", "bptt | eprop", ConfigFlags::training},
    {"--feedback", "KIND", "train.feedback", "e-prop learning signal weights: symmetric | random",
     ConfigFlags::training},
    {"--epochs", "N", "train.epochs", "passes over the training set", ConfigFlags::training},
    {"--batch", "N", "train.batch_size", "minibatch size", ConfigFlags::training},
    {"--lr", "X", "train.learning_rate", "learning rate", ConfigFlags::training},
    {"--method", "NAME", "constraint.method", "dense | qr (Quantized Rewiring) | deepr | prune-round",
     ConfigFlags::constraint},
    {"--constraint", "KIND", "constraint.kind", "weight precision: none | uniform | dynapse1 | dynapse2",
     ConfigFlags::constraint},
    {"--fanin", "K", "constraint.fanin", "fan-in table entries per neuron, 0: unlimited", ConfigFlags::constraint},
    {"--weight-bits", "B", "constraint.weight_bits", "bits of a uniform weight code", ConfigFlags::constraint},
    {"--bases", "CHOICE", "constraint.bases",
     "dynapse bases: ladder (dynapse1 large = 4 x small, dynapse2 s:2s:4s:8s) | optimised (Nelder-Mead at "
     "initialisation; qr only)",
     ConfigFlags::constraint},
};

const char* group_title(ConfigFlags::Group g) {
    switch (g) {
        case ConfigFlags::data: return "Data";
        case ConfigFlags::network: return "Network";
        case ConfigFlags::constraint: return "Constraint";
        default: return "Training";
    }
}

}  // namespace

void ConfigFlags::add_to(CLI::App& command, unsigned groups) {
    const nlohmann::json defaults = config_to_json(Config{});
    command.add_option("--config", config_file_, "TOML config file (see configs/README.md)")
        ->type_name("FILE");
    command.add_option("--set", sets_, "override any config key, e.g. --set network.tau_m=25")
        ->type_name("KEY=VALUE");
    for (const FlagSpec& spec : kFlags) {
        if (!(groups & spec.group)) continue;
        const std::string key = spec.key;
        const auto dot = key.find('.');
        const nlohmann::json& def = defaults[key.substr(0, dot)][key.substr(dot + 1)];
        const std::string shown = def.is_string() ? def.get<std::string>() : def.dump();
        std::string help = spec.help ? spec.help : "";
        if (!spec.help)
            for (const std::string& name : task_names()) help += (help.empty() ? "" : " | ") + name;
        Flag& flag = flags_[key];
        flag.option = command.add_option(spec.name, flag.value, help + " [" + key + ", default " + shown + "]");
        flag.option->type_name(spec.metavar)->group(group_title(spec.group));
    }
}

Config ConfigFlags::resolve(const RawConfig& base) const {
    RawConfig raw = base;
    if (!config_file_.empty()) raw.merge(read_config_file(config_file_));
    RawConfig overrides;
    for (const std::string& assignment : sets_) {
        const auto eq = assignment.find('=');
        if (eq == std::string::npos)
            throw UsageError("--set " + assignment + ": expected KEY=VALUE, e.g. --set network.tau_m=25");
        overrides.set_text(assignment.substr(0, eq), assignment.substr(eq + 1), "--set");
    }
    for (const auto& [key, flag] : flags_)
        if (flag.option->count() > 0) overrides.set_text(key, flag.value, flag.option->get_name());
    raw.merge(overrides);
    return qrsim::app::resolve(raw);
}

void ConfigFlags::add_inputs(PathGuard& paths, const Config& config) const {
    paths.input("--config", config_file_);
    paths.inputs_in("the dataset folder (task.data_dir)", config.task.data_dir);
}

}  // namespace qrsim::app
