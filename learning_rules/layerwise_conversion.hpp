// ANN -> SNN conversion for the tile (Mern, Gupta, Kochenderfer, IEEE SSCI 2017;
// docs/references.md#layer-wise-conversion): layer by layer, each neuron's synapses are fitted so that its
// integrate-and-fire rate follows the ANN unit's activation on sampled training images,
// under the chip's constraints (constraint_spec.hpp: fan-in K, uniform n-bit or dynapse2
// levels shared by a group), with optimal node pruning to a designer's layer sizes.
//
// The converted network is an RsnnParams/RsnnWeights checkpoint the tile runs unchanged:
//   inputs    task fmnist-rate (task_rate.hpp): 784 regular rate-coded pixels + 1 always-on
//             channel; hidden neurons get the ANN's biases in their bias registers (b_rec, a
//             constant current per step) or, with bias_registers off, as a synapse from it;
//   hidden    ANN layer l = block l of the recurrent neurons (rows in order); block 0 reads
//             the pixels through w_in, block l > 0 reads block l-1 through w_rec, so each
//             layer adds one step of delay; integrate-and-fire: tau_m huge (alpha ~ 1),
//             reset by subtraction of v_th, refractory 0, no ALIF, so the rate per step is
//             r = clip(I / v_th, 0, 1) for a constant current I;
//   readout   the ANN's last (linear) layer on w_out and b_out; the leaky readout summed over
//             the window is a rate-weighted vote, its argmax the class.
//
// Per hidden layer l, with R the rates the already converted layer l-1 produces on K_s
// images (measured by simulating the float SNN) and z the ANN pre-activations:
//   lambda_l  = the `percentile` of the layer's positive activations (rate scale)
//   target    c = v_th z / lambda_l; rows with z <= 0 one-sided (c <= 0: stay silent), rows
//             with z >= lambda_l one-sided (c >= v_th: saturate)
//   fan-in    candidates = the ANN's connections (a convolution's unrolled 3x3xC window)
//             plus the bias (counted only as a channel synapse); more than K: preselect 3K by |w| x rms(rate), then
//             backward elimination by the exact L2 cost (ObsEliminator) down to K
//   fit       bounded least squares (fast path) or an L1 / L-infinity LP (Clp), then integer
//             levels by error feedback (synapse_fit.hpp)
//   pruning   with the layer converted, remove its neurons one by one by the least increase
//             of the next layer's dense L2 refit error, down to prune_to[l]
// naive baseline: data-based weight normalisation (w = v_th W lambda_{l-1} / lambda_l),
// then prune_and_round (top-K by magnitude, nearest level) on each group.
#pragma once

#include "common/checkpoint.hpp"
#include "common/task_rate.hpp"
#include "learning_rules/ann.hpp"
#include "learning_rules/constrained_group.hpp"
#include "learning_rules/synapse_fit.hpp"

#include <string>
#include <vector>

namespace qrsim {

struct ConversionOptions {
    ConstraintSpec spec;          // kind none | uniform | dynapse2; fanin K for every neuron
    std::string method = "fit";   // "fit" | "naive"
    std::string solver = "lsq";   // "lsq" | "l1" | "linf" (fit only)
    int samples = 1500;           // K_s training images the fit samples
    std::vector<int> prune_to;    // per hidden layer: neurons kept (missing or 0: all)
    double v_th = 1.0;
    double percentile = 0.999;    // of the positive activations: the rate-1 level
    double tau_out = 8.0;         // readout leak (steps)
    double readout_peak = 16.0;   // |y| the readout reaches at the logits' percentile; the
                                  // tile's 16-bit membrane holds +-32 at 10 fraction bits
    RateCoding coding = kRateCoding;
    double level_lsb = 1.0 / 1024;  // fit: level steps are multiples of this (the tile's LUT
                                    // resolution, 2^-neuron.membrane_frac_bits at v_th = 1;
                                    // 10 in every preset but loihi); 0: any step
    bool bias_registers = true;   // hidden biases in the neurons' bias registers (free, the
                                  // membrane's precision); false: a synapse from the always-on
                                  // channel (one fan-in entry, a weight level)
    uint64_t seed = 1;
    int threads = 1;
};

struct LayerFit {
    std::string name;        // "hidden0", ..., "readout"
    int ann_units = 0;       // units of the ANN layer
    int neurons = 0;         // neurons after pruning
    double rate_scale = 0;   // lambda (hidden) or the readout's target scale
    double rms_error = 0;    // rms over samples and neurons of the fit residual (one-sided rows
                             // count only when violated), in units of v_th per step
    double rel_error = 0;    // |residual| / |target| over the same rows
    double relaxed_rms_error = 0;  // the same before rounding to levels (fit only)
    int max_fanin = 0;       // entries of the fullest neuron
    double level_scale = 1;  // the levels' scale / the naive network's (fit: the best of a few)
    double seconds = 0;
};

struct ConversionResult {
    Checkpoint checkpoint;   // params, weights and extra {"constraint", "conversion"}
    std::vector<GroupQuant> layer_quant;  // per hidden layer: its own scale (bases)
    GroupQuant readout_quant;
    std::vector<LayerFit> layers;
    ConstraintCheck hidden_check, readout_check;
    int pipeline_delay = 0;  // steps from an input spike to the readout (hidden layers - 1)
};

// Throws std::invalid_argument on options the converter does not support (dynapse1,
// pruning with the naive method, a readout_begin inside the pipeline delay).
ConversionResult convert_ann(const Ann& ann, const ImageSet& train, const Task& rate_task,
                             const ConversionOptions& options);

// Float SNN on `indices` of a split (rate task), `threads` in parallel: the predictions
// (argmax of the readout summed over the window) and, per recurrent neuron j, the spike
// counts in steps [count_from[j], n_steps) (count_from empty: no counts).
struct SnnRun {
    std::vector<int> predictions;
    Matrix counts;  // samples x n_rec
};
SnnRun simulate_snn(const RsnnParams& params, const RsnnWeights& weights, const Task& task, Split split,
                    const std::vector<int>& indices, const std::vector<int>& count_from, int threads);

// The RsnnParams of a converted network with n_rec hidden neurons.
RsnnParams converted_params(int n_in, int n_rec, int n_out, const ConversionOptions& options);

}  // namespace qrsim
