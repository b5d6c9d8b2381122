// qrsim export-nir: a qrsim checkpoint -> a NIR graph (HDF5) other simulators and chips read.
//
//   qrsim export-nir NET.json OUT.nir
//
// What NIR cannot express (reset by subtraction, refractoriness, a layer's step of delay) is
// printed as a note and kept in the graph's metadata, so qrsim reads the network back
// bit-exact (nir/nir_network.hpp, docs/nir.md).
#include "apps/cli.hpp"
#include "apps/path_guard.hpp"
#include "common/atomic_file.hpp"
#include "common/checkpoint.hpp"
#include "nir/nir_file.hpp"
#include "nir/nir_network.hpp"

#include <cstdio>
#include <memory>

namespace qrsim::app {

namespace {

struct ExportNirCommand {
    std::string net;
    std::string nir;
};

void run_export_nir(const ExportNirCommand& cmd) {
    PathGuard paths;
    paths.input("NET.json", cmd.net);
    paths.output("OUT.nir", cmd.nir);
    paths.check();
    const Checkpoint cp = load_checkpoint(cmd.net);
    std::vector<std::string> notes;
    const NirGraph graph = nir_from_checkpoint(cp, notes);
    const std::string bytes = nir_to_bytes(graph);
    for (const std::string& note : notes) std::fprintf(stderr, "qrsim: note: %s\n", note.c_str());
    paths.create_output_dirs();
    write_file_atomically(cmd.nir, bytes);
    std::printf("exported %s: %zu nodes, %zu edges -> %s (%zu bytes)\n", cmd.net.c_str(), graph.nodes.size(),
                graph.edges.size(), cmd.nir.c_str(), bytes.size());
}

}  // namespace

void register_export_nir(CLI::App& app) {
    auto cmd = std::make_shared<ExportNirCommand>();
    CLI::App* sub = app.add_subcommand("export-nir", "Write a qrsim checkpoint as a NIR graph (HDF5)");
    sub->add_option("net", cmd->net, "checkpoint written by qrsim train, convert or import-nir")->type_name("NET.json")->required();
    sub->add_option("nir", cmd->nir, "the NIR file to write")->type_name("OUT.nir")->required();
    sub->callback([cmd] { run_export_nir(*cmd); });
}

}  // namespace qrsim::app
