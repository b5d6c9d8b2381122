// Float ANNs (Eigen) that the converter (layerwise_conversion.hpp) maps onto the tile:
// ReLU networks of dense and 2-D convolution layers with a linear last layer, trained with
// minibatch Adam on softmax cross-entropy.
//
// Activations of a batch are rows; a convolution's units are channel-major
// (index = channel x out_h x out_w + y x out_w + x), so every layer is, for the converter,
// a linear map  pre = W_dense x + b  with a fan-in table (the pairs W_dense may use).
//
// Presets (ann_preset):
//   mlp  784-256-128-10
//   cnn  conv 3x3/2 1->4 (13x13x4), conv 3x3/2 4->7 (6x6x7), conv 3x3/2 7->16 (2x2x16), dense 64->10:
//        every unit's fan-in (9, 36, 63, 64) fits a K=64 CAM without pruning, and the
//        992 hidden units + 785 inputs fit one Dynap-SE2-like chip (1024 neurons, 11-bit tags).
#pragma once

#include "common/rsnn.hpp"
#include "common/task.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

// Images as rows of intensities in [0, 1].
struct ImageSet {
    Matrix x;  // n x pixels
    std::vector<int> labels;
    int rows = 0, cols = 0;
};

// Throws std::runtime_error naming the file (idx.hpp) if the data cannot be read.
ImageSet load_fmnist_images(const std::string& data_dir, Split split, int limit = -1);

struct AnnLayer {
    enum class Kind { dense, conv };
    Kind kind = Kind::dense;
    int n_in = 0, n_out = 0;
    // conv only: input channels x height x width, kernel k x k, stride s, no padding.
    int in_c = 0, in_h = 0, in_w = 0, out_c = 0, k = 0, stride = 1, out_h = 0, out_w = 0;

    Matrix w;       // dense: n_out x n_in; conv: (in_c k k) x out_c
    Vector b;       // dense: n_out; conv: out_c (shared by a channel's units)
    Matrix mask;    // dense only, optional (empty: all pairs): 0 forbids a pair (fan-in limit)

    static AnnLayer dense(int n_in, int n_out);
    static AnnLayer conv(int in_c, int in_h, int in_w, int out_c, int k, int stride);

    // Pre-activations of a batch (rows).
    void forward(const Matrix& x, Matrix& pre) const;
    // Gradients of the loss w.r.t. w, b (overwritten) and, if dx, the input.
    void backward(const Matrix& x, const Matrix& dpre, Matrix& dw, Vector& db, Matrix* dx) const;

    // The layer as the converter sees it: n_out x n_in weights, per-unit biases, and the
    // pairs that exist (1) or not (0).
    Matrix dense_weights() const;
    Vector dense_bias() const;
    Matrix connectivity() const;
};

struct Ann {
    std::string name;
    std::vector<AnnLayer> layers;  // ReLU after every layer but the last

    int n_in() const { return layers.front().n_in; }
    int n_out() const { return layers.back().n_out; }
    // Pre-activations of every layer (the last one: the logits).
    std::vector<Matrix> forward_all(const Matrix& x) const;
    std::vector<int> predict(const Matrix& x) const;
    double accuracy(const ImageSet& data) const;
};

// "mlp" or "cnn" for images of rows x cols, He-initialised from the seed; throws
// std::invalid_argument on an unknown name.
Ann ann_preset(const std::string& name, int rows, int cols, uint64_t seed);

struct AnnTrainOptions {
    int epochs = 10;
    int batch_size = 128;
    double learning_rate = 2e-3;
    double lr_decay = 0.8;   // per epoch
    double weight_decay = 0; // L2 on weights (not biases)
    // > 0: after `fanin_after_epoch` epochs, each dense unit keeps only its `fanin` largest
    // weights (mask) and training continues: an ANN shaped like the chip.
    int fanin = 0;
    int fanin_after_epoch = 4;
    // > 0: quantization-aware training: forward and backward passes see every layer's
    // weights rounded to uniform `weight_bits` levels (the converter's naive levels,
    // choose_quant); the updates go to float shadow weights (straight-through). The trained
    // ANN keeps the rounded weights (biases stay float).
    int weight_bits = 0;
    uint64_t seed = 1;
    int threads = 1;
    bool verbose = true;
};

// Minibatch Adam on softmax cross-entropy; returns the final training accuracy.
double train_ann(Ann& ann, const ImageSet& train, const AnnTrainOptions& options);

// Keeps per unit (row) of dense layer `layer` its `fanin` largest |w| (sets the mask).
void apply_fanin_mask(AnnLayer& layer, int fanin);

nlohmann::json ann_to_json(const Ann& ann);
Ann ann_from_json(const nlohmann::json& j);  // throws std::runtime_error naming the field
void save_ann(const std::string& path, const Ann& ann);
Ann load_ann(const std::string& path);

}  // namespace qrsim
