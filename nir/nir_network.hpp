// A NIR graph <-> a qrsim checkpoint, and the discretisation between them (docs/nir.md).
//
// The graph shapes qrsim holds:
//   recurrent    Input -> Affine|Linear -> LIF|CubaLIF [-> Affine|Linear -> back to it]
//                      -> Affine|Linear -> LI|CubaLI -> Output
//   feed-forward Input -> Affine|Linear -> LIF -> Affine|Linear -> LIF ... -> Affine|Linear
//                      -> LI|CubaLI -> Output   (the conversion path's MLP: layer l is block l
//                      of the recurrent neurons, extra.nir.layers keeps the sizes)
// Anything else is refused with one line naming the node and what qrsim cannot hold.
//
// NIR's neurons are continuous in time (seconds); qrsim's step at dt (ms). A NIR input u
// (a spike is 1 for one step) held over a step moves the membrane exactly by
//   v_t = alpha v_{t-1} + (1 - alpha) (v_leak + r u_t),   alpha = exp(-dt / tau)
// so a NIR weight w becomes the qrsim weight gain * w with gain = r (1 - alpha); for the
// current-based nodes the synaptic stage adds a factor w_in (1 - alpha_syn). Export writes
// the resistance of unit gain, r = 1 / ((1 - alpha)(1 - alpha_syn)), and the weights as they
// are; import reads exactly that r as gain 1, so export -> import is bit-exact.
#pragma once

#include "common/checkpoint.hpp"
#include "nir/nir_graph.hpp"

#include <string>
#include <vector>

namespace qrsim {

// NIR times are seconds, qrsim's milliseconds.
double nir_seconds_from_ms(double ms);
double nir_ms_from_seconds(double seconds);
// What one unit of a population's NIR input adds to its qrsim state per step.
double nir_input_gain(double r, double w_in, double alpha, double alpha_syn);
// The resistance of gain 1 (w_in = 1).
double nir_unit_gain_resistance(double alpha, double alpha_syn);

struct NirImportOptions {
    double dt_ms = 0;  // the step; 0: the exporter's (graph metadata qrsim_dt_ms), else 1 ms
};

// `origin` names the file in errors. Throws std::runtime_error naming the node.
Checkpoint checkpoint_from_nir(const NirGraph& graph, const NirImportOptions& options, const std::string& origin);

// The network as a NIR graph. `notes` receives what NIR's primitives do not express and
// other simulators will therefore run differently (qrsim keeps it in the graph metadata).
NirGraph nir_from_checkpoint(const Checkpoint& checkpoint, std::vector<std::string>& notes);

}  // namespace qrsim
