#include "apps/core_report.hpp"

#include <algorithm>

namespace qrsim::app {
namespace {

nlohmann::json by_class(const InstrCounts& c, double scale) {
    nlohmann::json j = nlohmann::json::object();
    for (int i = 0; i < kInstrClassCount; ++i) j[instr_class_name(static_cast<InstrClass>(i))] = c.n[i] * scale;
    j["total"] = c.total() * scale;
    return j;
}

}  // namespace

nlohmann::json core_report(const CoreRun& r) {
    const LearningEngine& e = *r.engine;
    nlohmann::json j;
    j["kind"] = e.on_iss() ? "iss" : "native";
    if (!e.on_iss()) {
        j["note"] = "learn.core = native: the firmware ran as host code; instructions, cycles and compute energy "
                    "are measured only on the ISS (learn.core = \"iss\")";
        return j;
    }
    const double per = r.samples ? 1.0 / static_cast<double>(r.samples) : 0.0, hz = e.clock_hz();
    InstrCounts all;
    uint64_t cycles = 0;
    nlohmann::json hooks = nlohmann::json::object();
    for (int h = 0; h < kLearnHookCount; ++h) {
        const HookStats& s = e.hook_stats(static_cast<LearnHook>(h));
        all += s.instructions;
        cycles += s.cycles;
        if (!s.calls) continue;
        const double pc = 1.0 / static_cast<double>(s.calls);
        hooks[learn_hook_name(static_cast<LearnHook>(h))] = {
            {"calls", s.calls},
            {"instructions_per_call", by_class(s.instructions, pc)},
            {"cycles_per_call", s.cycles * pc},
            {"max_cycles", s.max_cycles},
            {"time_per_call_s", s.cycles * pc / hz}};
    }
    const StepTiming& st = e.step_timing();
    const double sample_s = r.steps_per_sample * r.step_s;
    const double min_step_hz = r.step_s > 0 ? st.worst_cycles / r.step_s : 0;
    const double min_sample_hz = sample_s > 0 ? cycles * per / sample_s : 0;
    const ElfImage& img = *e.image();
    j["model"] = e.timing().name;
    j["timing_source"] = e.timing().source;
    j["clock_hz"] = hz;
    j["image"] = {{"path", img.path},         {"code_bytes", img.code_bytes}, {"rodata_bytes", img.rodata_bytes},
                  {"ram_bytes", img.ram_bytes}, {"stack_bytes", img.stack_bytes}};
    j["per_sample"] = {{"instructions", by_class(all, per)}, {"cycles", cycles * per}, {"time_s", cycles * per / hz}};
    j["per_hook"] = hooks;
    j["steps"] = {{"period_s", r.step_s},
                  {"boundaries", st.steps},
                  {"worst_cycles", st.worst_cycles},
                  {"worst_s", st.worst_cycles / hz},
                  {"over_period", st.over},
                  {"excess_s", st.excess_cycles / hz}};
    j["duty_cycle"] = r.sim_time_s > 0 ? std::min(1.0, cycles / hz / r.sim_time_s) : 0.0;
    // Real time: every step boundary's learning fits its step, and a sample's learning fits
    // the sample's duration (the work between samples, e.g. a batch update, included).
    j["min_clock_hz_realtime"] = std::max(min_step_hz, min_sample_hz);
    j["min_clock_hz_steps"] = min_step_hz;
    j["min_clock_hz_sample"] = min_sample_hz;
    if (e.core() && !e.core()->profile_by_function().empty()) {
        nlohmann::json p = nlohmann::json::array();
        const double total = static_cast<double>(std::max<uint64_t>(1, e.core()->counts().total()));
        for (const auto& [fn, n] : e.core()->profile_by_function())
            p.push_back({{"function", fn}, {"instructions", n}, {"share", n / total}});
        j["profile"] = p;
    }
    return j;
}

void print_core_summary(std::FILE* out, const nlohmann::json& c) {
    if (c["kind"] != "iss") {
        std::fprintf(out, "learning core: native host build (no instruction counts)\n");
        return;
    }
    const auto& ps = c["per_sample"];
    const auto& in = ps["instructions"];
    std::fprintf(out, "learning core: %s at %.0f MHz, image %d B code + %d B data in ROM, %d B RAM\n",
                 c["model"].get<std::string>().c_str(), c["clock_hz"].get<double>() / 1e6, c["image"]["code_bytes"].get<int>(),
                 c["image"]["rodata_bytes"].get<int>(), c["image"]["ram_bytes"].get<int>());
    std::fprintf(out, "  per training sample: %.0f instructions (alu %.0f, mul %.0f, mulh %.0f, div %.0f, load %.0f, store %.0f, "
                      "branch %.0f taken + %.0f not, jump %.0f), %.0f cycles = %.3f ms\n",
                 in["total"].get<double>(), in["alu"].get<double>(), in["mul"].get<double>(), in["mulh"].get<double>(),
                 in["div"].get<double>(), in["load"].get<double>(), in["store"].get<double>(),
                 in["branch_taken"].get<double>(), in["branch_not_taken"].get<double>(), in["jump"].get<double>(),
                 ps["cycles"].get<double>(), 1e3 * ps["time_s"].get<double>());
    for (const auto& [name, h] : c["per_hook"].items())
        std::fprintf(out, "  %-13s %10llu calls  %12.0f instructions  %12.0f cycles per call (longest %llu)\n",
                     name.c_str(), static_cast<unsigned long long>(h["calls"].get<uint64_t>()),
                     h["instructions_per_call"]["total"].get<double>(), h["cycles_per_call"].get<double>(),
                     static_cast<unsigned long long>(h["max_cycles"].get<uint64_t>()));
    const auto& s = c["steps"];
    std::fprintf(out, "  worst step: %.1f us of the %.1f us step (%llu of %llu steps over); duty cycle %.1f %%; "
                      "real time needs >= %.1f MHz\n",
                 1e6 * s["worst_s"].get<double>(), 1e6 * s["period_s"].get<double>(),
                 static_cast<unsigned long long>(s["over_period"].get<uint64_t>()),
                 static_cast<unsigned long long>(s["boundaries"].get<uint64_t>()), 100 * c["duty_cycle"].get<double>(),
                 c["min_clock_hz_realtime"].get<double>() / 1e6);
    if (c.contains("profile")) {
        std::fprintf(out, "  firmware profile (instructions by function):\n");
        int shown = 0;
        for (const auto& p : c["profile"]) {
            if (shown++ == 12) break;
            std::fprintf(out, "    %5.1f %%  %s\n", 100 * p["share"].get<double>(), p["function"].get<std::string>().c_str());
        }
    }
}

}  // namespace qrsim::app
