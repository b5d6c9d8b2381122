// qrsim import-nir: a NIR graph (HDF5, from snnTorch, Norse, Rockpool, Lava, Sinabs, ...)
// -> a qrsim checkpoint that `qrsim eval` runs in float, optionally projected onto a chip
// constraint so `qrsim run --hw PRESET` runs it on the tile.
//
//   qrsim import-nir FILE.nir --checkpoint OUT.json [--dt MS]
//                    [--constraint uniform|dynapse1|dynapse2 --fanin K --weight-bits B]
//
// The graph shapes and the discretisation: nir/nir_network.hpp and docs/nir.md.
#include "apps/cli.hpp"
#include "apps/config.hpp"
#include "apps/path_guard.hpp"
#include "common/checkpoint.hpp"
#include "learning_rules/trainer.hpp"
#include "nir/nir_file.hpp"
#include "nir/nir_network.hpp"

#include <cmath>
#include <cstdio>
#include <memory>

namespace qrsim::app {

namespace {

struct ImportNirCommand {
    std::string nir;
    std::string checkpoint;
    double dt_ms = 0;
    std::string constraint = "none";
    int fanin = 64;
    int weight_bits = 4;
};

void run_import_nir(const ImportNirCommand& cmd) {
    ConstraintSpec spec;
    try {
        spec.kind = weight_kind_from_string(cmd.constraint);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--constraint: ") + e.what());
    }
    spec.fanin = cmd.fanin;
    spec.weight_bits = cmd.weight_bits;
    PathGuard paths;
    paths.input("FILE.nir", cmd.nir);
    paths.output("--checkpoint", cmd.checkpoint);
    paths.check();

    const NirGraph graph = read_nir_file(cmd.nir);
    NirImportOptions options;
    options.dt_ms = cmd.dt_ms;
    Checkpoint cp = checkpoint_from_nir(graph, options, cmd.nir);
    if (spec.kind != WeightKind::none) cp = prune_and_round_checkpoint(cp, spec);
    const RsnnParams& p = cp.params;
    char tau_syn[64] = "";
    if (p.tau_syn > 0) std::snprintf(tau_syn, sizeof tau_syn, ", tau_syn %.6g ms", p.tau_syn);
    std::printf("imported %s: %d inputs, %d %s neurons (tau_m %.6g ms%s, v_th %.6g, reset %s), %d readout (tau_out %.6g ms), dt %.6g ms%s\n",
                cmd.nir.c_str(), p.n_in, p.n_rec, p.tau_syn > 0 ? "CubaLIF" : "LIF", p.tau_m,
                tau_syn, p.v_th,
                p.reset_to_zero ? "to zero" : "by subtraction", p.n_out, p.tau_out, p.dt,
                spec.kind != WeightKind::none ? (", projected onto " + cmd.constraint + " K=" + std::to_string(spec.fanin)).c_str() : "");
    paths.create_output_dirs();
    save_checkpoint(cmd.checkpoint, cp);
    std::printf("checkpoint: %s\n", cmd.checkpoint.c_str());
}

}  // namespace

void register_import_nir(CLI::App& app) {
    auto cmd = std::make_shared<ImportNirCommand>();
    CLI::App* sub = app.add_subcommand("import-nir", "Read a NIR graph (HDF5) into a qrsim checkpoint");
    sub->add_option("nir", cmd->nir, "the NIR file")->type_name("FILE.nir")->required();
    sub->add_option("--checkpoint", cmd->checkpoint, "write the network here")->type_name("OUT.json")->required();
    sub->add_option("--dt", cmd->dt_ms, "time step in ms (default: the exporter's, else 1)")
        ->type_name("MS")
        ->check(CLI::Range(1e-6, 1e6));
    sub->add_option("--constraint", cmd->constraint, "project the weights onto a chip's levels: none, uniform, dynapse1, dynapse2")
        ->check(CLI::IsMember({"none", "uniform", "dynapse1", "dynapse2"}))
        ->capture_default_str();
    sub->add_option("--fanin", cmd->fanin, "K: CAM entries per neuron (0: unlimited)")->check(CLI::Range(0, 65536))->capture_default_str();
    sub->add_option("--weight-bits", cmd->weight_bits, "uniform: bits of the signed weight code")->check(CLI::Range(2, 16))->capture_default_str();
    sub->callback([cmd] { run_import_nir(*cmd); });
}

}  // namespace qrsim::app
