// qrsim report DIR: every report JSON under DIR (e.g. a sweep directory) into one CSV, one
// row per report, then the trade-off plots (scripts/plot_sweep.py, Debian's python3 with
// matplotlib): accuracy vs memory bits and vs energy per sample, Pareto front marked.
//
// Columns: `point` (the report's folder, relative to DIR), the settings that differ between
// reports (command, swept flags from a sweep's point.json, config keys from each report's
// echoed config), then the metrics any report has. Rows are sorted by `point`. When the
// seed is one of the swept settings, DIR/sweep_seeds.csv holds one row per setting without
// it: the number of seeds and each metric's mean and standard deviation.
#include "apps/cli.hpp"
#include "apps/config.hpp"
#include "apps/path_guard.hpp"
#include "apps/sweep_process.hpp"
#include "common/atomic_file.hpp"
#include "common/bounded_input.hpp"
#include "hw_models/hw_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include <unistd.h>

namespace qrsim::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kPython = "/usr/bin/python3";  // Debian's, with python3-matplotlib; the first on PATH may lack it

struct ReportCommand {
    std::string dir, csv, plots;
    bool no_plots = false;
};

struct Row {
    std::string file;  // the report it came from
    std::string point;
    std::map<std::string, json> settings;
    json report;
};

double number_or_nan(const json& j) { return j.is_number() ? j.get<double>() : NAN; }

// The total of a figure given by component: a number; an object's "total"; else the sum of
// its "*_total" entries (run --learn: inference_total + learning_total); else the sum of the
// totals of its entries (nested by phase, e.g. {"inference": {...}, "learning": {...}}).
json total_of(const json& j) {
    if (j.is_number()) return j;
    if (!j.is_object()) return nullptr;
    if (j.contains("total")) return j["total"];
    std::vector<json> parts;
    for (const auto& [k, v] : j.items())
        if (k.size() > 6 && k.compare(k.size() - 6, 6, "_total") == 0) parts.push_back(v);
    if (parts.empty())
        for (const auto& [k, v] : j.items()) parts.push_back(total_of(v));
    json sum = 0;  // stays an integer when every part is one (bits)
    for (const json& v : parts) {
        int64_t exact = 0;  // falls back to a double where the integers would overflow
        if (v.is_number_integer() && sum.is_number_integer() &&
            !__builtin_add_overflow(sum.get<int64_t>(), v.get<int64_t>(), &exact))
            sum = exact;
        else
            sum = number_or_nan(sum) + number_or_nan(v);
    }
    return sum;
}

json energy_per_sample(const json& r) {
    for (const char* key : {"energy_per_sample_pj", "energy_per_inference_pj"})
        if (r.contains(key)) return total_of(r[key]);
    if (r.contains("energy_pj") && r.contains("test_samples") && r["test_samples"].is_number() &&
        r["test_samples"].get<double>() > 0)
        return number_or_nan(total_of(r["energy_pj"])) / r["test_samples"].get<double>();
    return nullptr;
}

json key_of(const char* key, const json& r) { return r.contains(key) ? r[key] : json(); }

// Metric columns in order; timing columns last (they differ between identical runs).
const std::vector<std::pair<std::string, std::function<json(const json&)>>>& metrics() {
    using F = std::function<json(const json&)>;
    static const std::vector<std::pair<std::string, F>> all = {
        {"test_accuracy", [](const json& r) { return key_of("test_accuracy", r); }},
        {"train_accuracy", [](const json& r) { return key_of("train_accuracy", r); }},
        {"test_loss", [](const json& r) { return key_of("test_loss", r); }},
        {"float_test_accuracy", [](const json& r) { return key_of("float_test_accuracy", r); }},
        {"memory_bits", [](const json& r) { return r.contains("memory_bits") ? total_of(r["memory_bits"]) : json(); }},
        {"energy_per_sample_pj", energy_per_sample},
        {"energy_per_training_sample_pj",
         [](const json& r) { return r.contains("energy_per_training_sample_pj") ? total_of(r["energy_per_training_sample_pj"]) : json(); }},
        {"sops", [](const json& r) { return key_of("sops", r); }},
        {"constraint_violations", [](const json& r) { return key_of("constraint_violations", r); }},
        {"max_fanin", [](const json& r) { return key_of("max_fanin", r); }},
        {"epochs", [](const json& r) { return key_of("epochs", r); }},
        {"test_samples", [](const json& r) { return key_of("test_samples", r); }},
        {"sim_time_s", [](const json& r) { return key_of("sim_time_s", r); }},
        {"train_samples_per_s", [](const json& r) { return key_of("train_samples_per_s", r); }},
        {"wall_time_s", [](const json& r) { return key_of("wall_time_s", r); }},
    };
    return all;
}

// A report as JSON, or discarded (with the reason) if it is not one we can read.
json read_json(const fs::path& path, std::string* why = nullptr) {
    try {
        return parse_json_text(read_input_file(path.string(), kMaxReportBytes, "report", InputKind::data), path.string());
    } catch (const std::exception& e) {
        if (why) *why = e.what();
        return json(json::value_t::discarded);
    }
}

std::vector<Row> collect(const fs::path& root) {
    std::vector<Row> rows;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path& path = it->path();
        if (!it->is_regular_file() || path.extension() != ".json" || path.filename() == "point.json") continue;
        std::string why;
        json r = read_json(path, &why);
        if (r.is_discarded()) {
            std::fprintf(stderr, "report: skipping %s\n", why.c_str());
            continue;
        }
        if (!r.is_object() || !r.contains("command") || !r.contains("config")) continue;  // a checkpoint, ...
        Row row;
        row.point = fs::relative(path.parent_path(), root).generic_string();
        if (path.filename() != "report.json") row.point += "/" + path.filename().string();
        row.file = path.string();
        row.settings["command"] = r["command"];
        if (r["config"].is_object())
            for (const auto& [table, keys] : r["config"].items())
                if (keys.is_object())
                    for (const auto& [key, value] : keys.items()) row.settings[table + "." + key] = value;
        const json point = read_json(path.parent_path() / "point.json");  // a sweep's own record
        if (point.is_object()) {
            const json words = point.value("command", json::array()), flags = point.value("flags", json::object());
            std::string command;
            if (words.is_array())
                for (const json& w : words)
                    if (w.is_string()) command += (command.empty() ? "" : " ") + w.get<std::string>();
            row.settings["command"] = command;
            if (flags.is_object())
                for (const auto& [flag, value] : flags.items()) row.settings[flag] = value;
        }
        row.report = std::move(r);
        rows.push_back(std::move(row));
    }
    if (ec) throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.point < b.point; });
    return rows;
}

// Settings whose value is not the same in every row, in documentation order.
std::vector<std::string> swept_columns(const std::vector<Row>& rows) {
    std::vector<std::string> order = {"command"};
    std::set<std::string> all, flags, extra;
    for (const Row& r : rows)
        for (const auto& [k, v] : r.settings) all.insert(k);
    const std::vector<std::string> known = config_keys();
    for (const std::string& k : all) {
        if (k.rfind("--", 0) == 0) flags.insert(k);
        else if (k != "command" && std::find(known.begin(), known.end(), k) == known.end()) extra.insert(k);
    }
    order.insert(order.end(), flags.begin(), flags.end());
    order.insert(order.end(), known.begin(), known.end());
    order.insert(order.end(), extra.begin(), extra.end());
    std::vector<std::string> swept;
    for (const std::string& k : order) {
        if (!all.count(k)) continue;
        const auto value = [&](const Row& r) { return r.settings.count(k) ? r.settings.at(k) : json(); };
        if (std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return value(r) != value(rows[0]); }))
            swept.push_back(k);
    }
    return swept;
}

std::string cell(const json& v) {
    if (v.is_null()) return "";
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string to_csv(const std::vector<Row>& rows, const std::vector<std::string>& swept) {
    std::vector<std::string> header = {"point"};
    header.insert(header.end(), swept.begin(), swept.end());
    std::vector<size_t> used;  // metrics at least one report has
    for (size_t m = 0; m < metrics().size(); ++m)
        if (std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return !metrics()[m].second(r.report).is_null(); })) {
            used.push_back(m);
            header.push_back(metrics()[m].first);
        }
    std::string csv;
    for (size_t i = 0; i < header.size(); ++i) csv += (i ? "," : "") + cell(header[i]);
    csv += "\n";
    for (const Row& r : rows) {
        csv += cell(r.point);
        for (const std::string& k : swept) csv += "," + cell(r.settings.count(k) ? r.settings.at(k) : json());
        for (size_t m : used) csv += "," + cell(metrics()[m].second(r.report));
        csv += "\n";
    }
    return csv;
}

// The seed column among the swept ones: train.seed, or --seed for commands without a config.
std::string seed_column(const std::vector<std::string>& swept) {
    for (const char* k : {"train.seed", "--seed"})
        if (std::find(swept.begin(), swept.end(), k) != swept.end()) return k;
    return "";
}

// One row per setting with the seed left out: `seeds` (how many reports), then each metric's
// mean and sample standard deviation (n - 1; empty below two values) over those reports.
std::string to_seed_csv(const std::vector<Row>& rows, const std::vector<std::string>& swept, const std::string& seed) {
    std::vector<std::string> keys;
    for (const std::string& k : swept)
        if (k != seed) keys.push_back(k);
    std::map<std::vector<json>, std::vector<const Row*>> groups;  // sorted by setting (numbers as numbers)
    for (const Row& r : rows) {
        std::vector<json> id;
        for (const std::string& k : keys) id.push_back(r.settings.count(k) ? r.settings.at(k) : json());
        groups[id].push_back(&r);
    }
    std::vector<size_t> used;
    for (size_t m = 0; m < metrics().size(); ++m)
        if (std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return metrics()[m].second(r.report).is_number(); }))
            used.push_back(m);
    std::string csv;
    for (const std::string& k : keys) csv += cell(k) + ",";
    csv += "seeds";
    for (size_t m : used) csv += "," + metrics()[m].first + "_mean," + metrics()[m].first + "_std";
    csv += "\n";
    for (const auto& [id, members] : groups) {
        for (const std::string& k : keys) csv += cell(members[0]->settings.count(k) ? members[0]->settings.at(k) : json()) + ",";
        csv += std::to_string(members.size());
        for (size_t m : used) {
            std::vector<double> x;
            for (const Row* r : members)
                if (const json v = metrics()[m].second(r->report); v.is_number()) x.push_back(v.get<double>());
            double mean = 0, var = 0;
            for (double v : x) mean += v / x.size();
            for (double v : x) var += (v - mean) * (v - mean) / std::max<double>(1, x.size() - 1.0);
            csv += "," + (x.empty() ? std::string() : cell(mean)) + "," + (x.size() < 2 ? std::string() : cell(std::sqrt(var)));
        }
        csv += "\n";
    }
    return csv;
}

void plot(const std::string& csv, const std::string& out_dir) {
    const std::string script = (fs::path(project_dir()) / "scripts" / "plot_sweep.py").string();
    if (::access(kPython, X_OK) != 0)
        throw std::runtime_error(std::string("plots need ") + kPython + " with matplotlib (Debian: apt-get install "
                                 "python3-matplotlib); or pass --no-plots");
    if (!fs::exists(script)) throw std::runtime_error("plot script " + script + " not found (set QRSIM_SOURCE_DIR)");
    // Quiet: a Python traceback is not the one-line error the CLI promises.
    const Captured r = run_captured({kPython, script, csv, out_dir}, /*quiet=*/true);
    if (!r.ok())
        throw std::runtime_error("plots: " + script + " failed (" + describe_status(r.wait_status) +
                                 "); the CSV " + csv + " is written; see why with: " + kPython + " " + script + " " + csv +
                                 " " + out_dir + " (or pass --no-plots)");
    std::fputs(r.out.c_str(), stdout);
}

void run_report(const ReportCommand& cmd) {
    if (!fs::is_directory(cmd.dir)) throw UsageError("report: " + cmd.dir + " is not a directory");
    const std::vector<Row> rows = collect(cmd.dir);
    if (rows.empty()) throw std::runtime_error("no report JSON under " + cmd.dir);
    const std::vector<std::string> swept = swept_columns(rows);
    const std::string csv = cmd.csv.empty() ? (fs::path(cmd.dir) / "sweep.csv").string() : cmd.csv;
    const std::string plots = cmd.plots.empty() ? (fs::path(cmd.dir) / "plots").string() : cmd.plots;
    PathGuard paths;
    for (const Row& r : rows) {
        paths.input("report", r.file);
        paths.input("report", (fs::path(r.file).parent_path() / "point.json").string());
    }
    const std::string seed = seed_column(swept);
    const fs::path csv_path(csv);
    const std::string seed_csv = seed.empty() ? "" : (csv_path.parent_path() / (csv_path.stem().string() + "_seeds.csv")).string();
    paths.output(cmd.csv.empty() ? "the CSV (DIR/sweep.csv)" : "--csv", csv);
    paths.output("the seed summary next to the CSV (*_seeds.csv)", seed_csv);
    if (!cmd.no_plots) paths.output_dir(cmd.plots.empty() ? "the plots folder (DIR/plots)" : "--plots", plots);
    paths.check();
    paths.create_output_dirs();
    write_file_atomically(csv, to_csv(rows, swept));
    std::string columns;
    for (const std::string& k : swept) columns += " " + k;
    std::printf("%zu reports -> %s (swept:%s)\n", rows.size(), csv.c_str(), columns.empty() ? " none" : columns.c_str());
    if (!seed.empty()) {
        write_file_atomically(seed_csv, to_seed_csv(rows, swept, seed));
        std::printf("mean and std over %s -> %s\n", seed.c_str(), seed_csv.c_str());
    }
    // With several seeds the plots show each setting's mean with its std as error bars.
    if (!cmd.no_plots) plot(seed.empty() ? csv : seed_csv, plots);
}

}  // namespace

void register_report(CLI::App& app) {
    auto cmd = std::make_shared<ReportCommand>();
    CLI::App* sub = app.add_subcommand("report", "Collect the report JSONs under DIR into one CSV and plot the trade-offs");
    sub->add_option("dir", cmd->dir, "folder to search, e.g. a sweep directory")->type_name("DIR")->required();
    sub->add_option("--csv", cmd->csv, "CSV to write [default DIR/sweep.csv]")->type_name("FILE");
    sub->add_option("--plots", cmd->plots, "folder for the PNG and SVG plots [default DIR/plots]")->type_name("DIR");
    sub->add_flag("--no-plots", cmd->no_plots, "write the CSV only");
    sub->callback([cmd] { run_report(*cmd); });
}

}  // namespace qrsim::app
