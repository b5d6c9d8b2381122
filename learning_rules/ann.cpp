#include "learning_rules/ann.hpp"

#include "common/atomic_file.hpp"
#include "common/bounded_input.hpp"
#include "common/idx.hpp"
#include "learning_rules/constrained_group.hpp"
#include "learning_rules/optimizer.hpp"
#include "learning_rules/synapse_fit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

namespace qrsim {

ImageSet load_fmnist_images(const std::string& data_dir, Split split, int limit) {
    const std::string prefix = data_dir + "/" + (split == Split::train ? "train" : "t10k");
    const IdxLabelledSet set =
        read_idx_set(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", limit, 10);
    ImageSet out;
    out.rows = set.images.rows;
    out.cols = set.images.cols;
    const int n = set.images.n, d = set.images.image_size();
    out.x.resize(n, d);
    for (int i = 0; i < n; ++i)
        for (int p = 0; p < d; ++p) out.x(i, p) = set.images.image(i)[p] / 255.0;
    out.labels.assign(set.labels.begin(), set.labels.end());
    return out;
}

// ---- layers

AnnLayer AnnLayer::dense(int n_in, int n_out) {
    AnnLayer l;
    l.kind = Kind::dense;
    l.n_in = n_in;
    l.n_out = n_out;
    l.w.setZero(n_out, n_in);
    l.b.setZero(n_out);
    return l;
}

AnnLayer AnnLayer::conv(int in_c, int in_h, int in_w, int out_c, int k, int stride) {
    if (in_h < k || in_w < k || stride < 1) throw std::invalid_argument("conv layer: kernel larger than its input");
    AnnLayer l;
    l.kind = Kind::conv;
    l.in_c = in_c, l.in_h = in_h, l.in_w = in_w, l.out_c = out_c, l.k = k, l.stride = stride;
    l.out_h = (in_h - k) / stride + 1;
    l.out_w = (in_w - k) / stride + 1;
    l.n_in = in_c * in_h * in_w;
    l.n_out = out_c * l.out_h * l.out_w;
    l.w.setZero(in_c * k * k, out_c);
    l.b.setZero(out_c);
    return l;
}

namespace {

// im2col: one row per (sample, output position), one column per (channel, dy, dx).
Matrix patches(const AnnLayer& l, const Matrix& x) {
    const int positions = l.out_h * l.out_w;
    Matrix p(x.rows() * positions, l.in_c * l.k * l.k);
    for (Eigen::Index s = 0; s < x.rows(); ++s)
        for (int oy = 0; oy < l.out_h; ++oy)
            for (int ox = 0; ox < l.out_w; ++ox) {
                const Eigen::Index row = s * positions + oy * l.out_w + ox;
                for (int c = 0; c < l.in_c; ++c)
                    for (int dy = 0; dy < l.k; ++dy)
                        for (int dx = 0; dx < l.k; ++dx)
                            p(row, (c * l.k + dy) * l.k + dx) =
                                x(s, (c * l.in_h + oy * l.stride + dy) * l.in_w + ox * l.stride + dx);
            }
    return p;
}

}  // namespace

void AnnLayer::forward(const Matrix& x, Matrix& pre) const {
    if (kind == Kind::dense) {
        pre.noalias() = x * w.transpose();
        pre.rowwise() += b.transpose();
        return;
    }
    const int positions = out_h * out_w;
    const Matrix o = patches(*this, x) * w;  // (batch x positions) x out_c
    pre.resize(x.rows(), n_out);
    for (Eigen::Index s = 0; s < x.rows(); ++s)
        for (int c = 0; c < out_c; ++c)
            for (int p = 0; p < positions; ++p) pre(s, c * positions + p) = o(s * positions + p, c) + b[c];
}

void AnnLayer::backward(const Matrix& x, const Matrix& dpre, Matrix& dw, Vector& db, Matrix* dx) const {
    if (kind == Kind::dense) {
        dw.noalias() = dpre.transpose() * x;
        db = dpre.colwise().sum().transpose();
        if (dx) dx->noalias() = dpre * w;
        return;
    }
    const int positions = out_h * out_w;
    Matrix d_o(x.rows() * positions, out_c);
    for (Eigen::Index s = 0; s < x.rows(); ++s)
        for (int c = 0; c < out_c; ++c)
            for (int p = 0; p < positions; ++p) d_o(s * positions + p, c) = dpre(s, c * positions + p);
    dw.noalias() = patches(*this, x).transpose() * d_o;
    db = d_o.colwise().sum().transpose();
    if (!dx) return;
    const Matrix dp = d_o * w.transpose();
    dx->setZero(x.rows(), n_in);
    for (Eigen::Index s = 0; s < x.rows(); ++s)
        for (int oy = 0; oy < out_h; ++oy)
            for (int ox = 0; ox < out_w; ++ox) {
                const Eigen::Index row = s * positions + oy * out_w + ox;
                for (int c = 0; c < in_c; ++c)
                    for (int dy = 0; dy < k; ++dy)
                        for (int ddx = 0; ddx < k; ++ddx)
                            (*dx)(s, (c * in_h + oy * stride + dy) * in_w + ox * stride + ddx) +=
                                dp(row, (c * k + dy) * k + ddx);
            }
}

Matrix AnnLayer::dense_weights() const {
    if (kind == Kind::dense) return mask.size() ? Matrix(w.cwiseProduct(mask)) : w;
    Matrix d = Matrix::Zero(n_out, n_in);
    for (int oc = 0; oc < out_c; ++oc)
        for (int oy = 0; oy < out_h; ++oy)
            for (int ox = 0; ox < out_w; ++ox)
                for (int c = 0; c < in_c; ++c)
                    for (int dy = 0; dy < k; ++dy)
                        for (int dx = 0; dx < k; ++dx)
                            d((oc * out_h + oy) * out_w + ox, (c * in_h + oy * stride + dy) * in_w + ox * stride + dx) =
                                w((c * k + dy) * k + dx, oc);
    return d;
}

Vector AnnLayer::dense_bias() const {
    if (kind == Kind::dense) return b;
    Vector d(n_out);
    for (int oc = 0; oc < out_c; ++oc) d.segment(oc * out_h * out_w, out_h * out_w).setConstant(b[oc]);
    return d;
}

Matrix AnnLayer::connectivity() const {
    if (kind == Kind::dense) return mask.size() ? mask : Matrix(Matrix::Ones(n_out, n_in));
    AnnLayer ones = *this;
    ones.w.setOnes();
    return ones.dense_weights();
}

void apply_fanin_mask(AnnLayer& layer, int fanin) {
    if (layer.kind != AnnLayer::Kind::dense) throw std::invalid_argument("fan-in masks apply to dense layers only");
    layer.mask.setOnes(layer.n_out, layer.n_in);
    if (fanin <= 0 || fanin >= layer.n_in) return;
    std::vector<double> mags(layer.n_in);
    for (int r = 0; r < layer.n_out; ++r) {
        for (int c = 0; c < layer.n_in; ++c) mags[c] = std::abs(layer.w(r, c));
        std::nth_element(mags.begin(), mags.begin() + (layer.n_in - fanin), mags.end());
        const double threshold = mags[layer.n_in - fanin];
        int kept = 0;  // ties at the threshold: keep the first ones, never more than fanin
        for (int c = 0; c < layer.n_in; ++c) {
            const bool keep = std::abs(layer.w(r, c)) > threshold;
            layer.mask(r, c) = keep ? 1.0 : 0.0;
            kept += keep;
        }
        for (int c = 0; c < layer.n_in && kept < fanin; ++c)
            if (layer.mask(r, c) == 0 && std::abs(layer.w(r, c)) == threshold) layer.mask(r, c) = 1.0, ++kept;
    }
    layer.w = layer.w.cwiseProduct(layer.mask);
}

// ---- networks

std::vector<Matrix> Ann::forward_all(const Matrix& x) const {
    std::vector<Matrix> pre(layers.size());
    Matrix input = x;
    for (size_t l = 0; l < layers.size(); ++l) {
        layers[l].forward(input, pre[l]);
        if (l + 1 < layers.size()) input = pre[l].cwiseMax(0.0);
    }
    return pre;
}

std::vector<int> Ann::predict(const Matrix& x) const {
    std::vector<int> out(x.rows());
    constexpr Eigen::Index kChunk = 1000;
    for (Eigen::Index s = 0; s < x.rows(); s += kChunk) {
        const Eigen::Index n = std::min(kChunk, x.rows() - s);
        const Matrix logits = forward_all(x.middleRows(s, n)).back();
        for (Eigen::Index i = 0; i < n; ++i) logits.row(i).maxCoeff(&out[s + i]);
    }
    return out;
}

double Ann::accuracy(const ImageSet& data) const {
    const std::vector<int> p = predict(data.x);
    int correct = 0;
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == data.labels[i];
    return p.empty() ? 0.0 : static_cast<double>(correct) / p.size();
}

Ann ann_preset(const std::string& name, int rows, int cols, uint64_t seed) {
    Ann ann;
    ann.name = name;
    const int pixels = rows * cols;
    if (name == "mlp") {
        ann.layers = {AnnLayer::dense(pixels, 256), AnnLayer::dense(256, 128), AnnLayer::dense(128, 10)};
    } else if (name == "cnn") {
        AnnLayer c1 = AnnLayer::conv(1, rows, cols, 4, 3, 2);
        AnnLayer c2 = AnnLayer::conv(4, c1.out_h, c1.out_w, 7, 3, 2);
        AnnLayer c3 = AnnLayer::conv(7, c2.out_h, c2.out_w, 16, 3, 2);
        const int features = c3.n_out;
        ann.layers = {c1, c2, c3, AnnLayer::dense(features, 10)};
    } else {
        throw std::invalid_argument("ann '" + name + "' is unknown (known: mlp, cnn)");
    }
    // He initialisation: variance 2 / fan-in.
    std::mt19937_64 rng(seed);
    for (AnnLayer& l : ann.layers) {
        const int fan_in = l.kind == AnnLayer::Kind::dense ? l.n_in : l.in_c * l.k * l.k;
        std::normal_distribution<double> normal(0.0, std::sqrt(2.0 / fan_in));
        for (Eigen::Index i = 0; i < l.w.size(); ++i) l.w.data()[i] = normal(rng);
    }
    return ann;
}

double train_ann(Ann& ann, const ImageSet& train, const AnnTrainOptions& o) {
    const size_t n_layers = ann.layers.size();
    std::vector<Matrix> dw(n_layers);
    std::vector<Vector> db(n_layers);
    std::vector<ParamRef> refs;
    for (size_t l = 0; l < n_layers; ++l) {
        dw[l].setZero(ann.layers[l].w.rows(), ann.layers[l].w.cols());
        db[l].setZero(ann.layers[l].b.size());
        refs.push_back({ann.layers[l].w.data(), dw[l].data(), static_cast<size_t>(dw[l].size())});
        refs.push_back({ann.layers[l].b.data(), db[l].data(), static_cast<size_t>(db[l].size())});
    }
    Adam adam;
    std::mt19937_64 rng(o.seed);
    const int n = static_cast<int>(train.x.rows());
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    double lr = o.learning_rate, accuracy = 0;
    std::vector<Matrix> act(n_layers + 1), pre, float_w(n_layers);
    ConstraintSpec levels;
    levels.kind = WeightKind::uniform;
    if (o.weight_bits > 0) {
        levels.weight_bits = o.weight_bits;
        validate(levels);  // names weight_bits if it makes no sense
    }
    const int max_code = uniform_max_code(levels.weight_bits);
    auto quantize = [&](Matrix& w) {
        const double step = choose_quant(levels, w).scale;
        w = w.unaryExpr([&](double x) { return nearest_level(x, step, max_code); });
    };
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        if (o.fanin > 0 && epoch == o.fanin_after_epoch + 1)
            for (AnnLayer& l : ann.layers)
                if (l.kind == AnnLayer::Kind::dense && l.n_in > o.fanin) apply_fanin_mask(l, o.fanin);
        std::shuffle(order.begin(), order.end(), rng);
        int correct = 0;
        double loss = 0;
        for (int s = 0; s < n; s += o.batch_size) {
            const int bsz = std::min(o.batch_size, n - s);
            act[0].resize(bsz, train.x.cols());
            for (int i = 0; i < bsz; ++i) act[0].row(i) = train.x.row(order[s + i]);
            if (o.weight_bits > 0)
                for (size_t l = 0; l < n_layers; ++l) {
                    float_w[l] = ann.layers[l].w;
                    quantize(ann.layers[l].w);
                }
            pre = ann.forward_all(act[0]);
            for (size_t l = 0; l + 1 < n_layers; ++l) act[l + 1] = pre[l].cwiseMax(0.0);
            // Softmax cross-entropy: d loss / d logits = (softmax - onehot) / batch.
            Matrix d = pre.back();
            for (int i = 0; i < bsz; ++i) {
                const int label = train.labels[order[s + i]];
                Eigen::Index argmax;
                const double m = d.row(i).maxCoeff(&argmax);
                correct += argmax == label;
                d.row(i) = (d.row(i).array() - m).exp();
                const double sum = d.row(i).sum();
                d.row(i) /= sum;
                loss -= std::log(std::max(d(i, label), 1e-300));
                d(i, label) -= 1.0;
            }
            d /= bsz;
            for (size_t l = n_layers; l-- > 0;) {
                Matrix dx;
                ann.layers[l].backward(act[l], d, dw[l], db[l], l > 0 ? &dx : nullptr);
                if (o.weight_decay > 0) dw[l] += o.weight_decay * ann.layers[l].w;
                if (ann.layers[l].mask.size()) dw[l] = dw[l].cwiseProduct(ann.layers[l].mask);
                if (l > 0) d = dx.cwiseProduct((pre[l - 1].array() > 0).cast<double>().matrix());
            }
            if (o.weight_bits > 0)
                for (size_t l = 0; l < n_layers; ++l) ann.layers[l].w = float_w[l];
            adam.step(refs, lr);
            for (AnnLayer& l : ann.layers)
                if (l.mask.size()) l.w = l.w.cwiseProduct(l.mask);
        }
        accuracy = static_cast<double>(correct) / n;
        if (o.verbose) {
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::printf("  ann %s epoch %d/%d: train accuracy %.2f %%, loss %.4f, %.1f s\n", ann.name.c_str(), epoch,
                        o.epochs, 100 * accuracy, loss / n, secs);
            std::fflush(stdout);
        }
        lr *= o.lr_decay;
    }
    // The network that was trained is the one on the levels.
    if (o.weight_bits > 0)
        for (AnnLayer& l : ann.layers) quantize(l.w);
    return accuracy;
}

// ---- files

namespace {

nlohmann::json matrix_json(const Matrix& m) {
    return {{"rows", m.rows()}, {"cols", m.cols()}, {"data", std::vector<double>(m.data(), m.data() + m.size())}};
}

// Reading an ANN file: every error is one line naming the field, never a library message.
[[noreturn]] void bad_ann(const std::string& what) { throw std::runtime_error("ann file: " + what); }

const nlohmann::json& field(const nlohmann::json& j, const std::string& where, const char* key) {
    if (!j.is_object()) bad_ann(where + " must be an object");
    const auto it = j.find(key);
    if (it == j.end()) bad_ann("missing field " + where + "." + key);
    return *it;
}

// Layer sizes: a bound on each keeps every product below in 64-bit range.
int size_field(const nlohmann::json& j, const std::string& where, const char* key) {
    constexpr int64_t kMax = 1'000'000;
    const nlohmann::json& v = field(j, where, key);
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{kMax}) ||
        v.get<int64_t>() < 1 || v.get<int64_t>() > kMax)
        bad_ann(where + "." + key + " must be an integer in 1.." + std::to_string(kMax));
    return static_cast<int>(v.get<int64_t>());
}

// Weights beyond this are no trained network: they overflow the converter's sums (1e308
// squared) into inf and NaN.
constexpr double kMaxAnnValue = 1e6;

// Copies a JSON array of `count` numbers into dst after checking every value.
void read_values(const nlohmann::json& data, int64_t count, double* dst, const std::string& where) {
    if (!data.is_array()) bad_ann(where + " must be an array");
    if (static_cast<int64_t>(data.size()) != count)
        bad_ann(where + " has " + std::to_string(data.size()) + " values, expected " + std::to_string(count));
    for (int64_t i = 0; i < count; ++i) {
        const nlohmann::json& v = data[static_cast<size_t>(i)];
        if (!v.is_number()) bad_ann(where + "[" + std::to_string(i) + "] is not a number");
        const double x = v.get<double>();
        if (!(std::abs(x) <= kMaxAnnValue))
            bad_ann(where + "[" + std::to_string(i) + "] is outside +-1e6 (not a trained network)");
        dst[i] = x;
    }
}

// The shape is checked against the file's values before the matrix is allocated.
Matrix matrix_from(const nlohmann::json& j, Eigen::Index rows, Eigen::Index cols, const std::string& what) {
    const Eigen::Index r = size_field(j, what, "rows"), c = size_field(j, what, "cols");
    if (r != rows || c != cols)
        bad_ann(what + " is " + std::to_string(r) + "x" + std::to_string(c) + ", expected " + std::to_string(rows) + "x" +
                std::to_string(cols));
    const nlohmann::json& data = field(j, what, "data");
    if (!data.is_array() || static_cast<Eigen::Index>(data.size()) != rows * cols)
        bad_ann(what + ".data must hold " + std::to_string(rows * cols) + " numbers");
    std::vector<double> values(static_cast<size_t>(rows * cols));
    read_values(data, rows * cols, values.data(), what + ".data");
    return Eigen::Map<const Matrix>(values.data(), rows, cols);
}

// A layer's declared shape, checked for overflow and against its weights before sizing.
AnnLayer layer_from(const nlohmann::json& lj, const std::string& what) {
    const nlohmann::json& kind = field(lj, what, "kind");
    if (kind == "dense") {
        const int n_in = size_field(lj, what, "n_in"), n_out = size_field(lj, what, "n_out");
        const nlohmann::json& w = field(lj, what, "w");
        const nlohmann::json& data = field(w, what + ".w", "data");
        if (!data.is_array() || static_cast<int64_t>(data.size()) != int64_t{n_in} * n_out)
            bad_ann(what + ".w.data must hold n_in x n_out = " + std::to_string(int64_t{n_in} * n_out) + " numbers");
        return AnnLayer::dense(n_in, n_out);
    }
    if (kind == "conv") {
        const int in_c = size_field(lj, what, "in_c"), in_h = size_field(lj, what, "in_h");
        const int in_w = size_field(lj, what, "in_w"), out_c = size_field(lj, what, "out_c");
        const int k = size_field(lj, what, "k"), stride = size_field(lj, what, "stride");
        if (k > in_h || k > in_w) bad_ann(what + ": kernel k = " + std::to_string(k) + " is larger than its input");
        if (int64_t{in_c} * in_h * in_w > 100'000'000 || int64_t{in_c} * k * k * out_c > 100'000'000)
            bad_ann(what + ": conv layer too large (more than 1e8 inputs or weights)");
        const nlohmann::json& data = field(field(lj, what, "w"), what + ".w", "data");
        if (!data.is_array() || static_cast<int64_t>(data.size()) != int64_t{in_c} * k * k * out_c)
            bad_ann(what + ".w.data must hold in_c x k x k x out_c numbers");
        const int64_t out_units = int64_t{out_c} * ((in_h - k) / stride + 1) * ((in_w - k) / stride + 1);
        if (out_units > 100'000'000) bad_ann(what + ": conv layer has more than 1e8 outputs");
        return AnnLayer::conv(in_c, in_h, in_w, out_c, k, stride);
    }
    bad_ann(what + ".kind must be \"dense\" or \"conv\"");
}

}  // namespace

nlohmann::json ann_to_json(const Ann& ann) {
    nlohmann::json layers = nlohmann::json::array();
    for (const AnnLayer& l : ann.layers) {
        nlohmann::json j;
        if (l.kind == AnnLayer::Kind::dense) {
            j = {{"kind", "dense"}, {"n_in", l.n_in}, {"n_out", l.n_out}};
        } else {
            j = {{"kind", "conv"}, {"in_c", l.in_c}, {"in_h", l.in_h}, {"in_w", l.in_w},
                 {"out_c", l.out_c}, {"k", l.k}, {"stride", l.stride}};
        }
        j["w"] = matrix_json(l.w);
        j["b"] = std::vector<double>(l.b.data(), l.b.data() + l.b.size());
        if (l.mask.size()) j["mask"] = matrix_json(l.mask);
        layers.push_back(j);
    }
    return {{"format", "qrsim-ann"}, {"version", 1}, {"name", ann.name}, {"layers", layers}};
}

Ann ann_from_json(const nlohmann::json& j) {
    if (!j.is_object()) bad_ann("top level is not an object");
    const nlohmann::json& format = field(j, "", "format");
    if (format != "qrsim-ann") bad_ann("format is not \"qrsim-ann\" (not an ANN saved by qrsim convert --ann-save)");
    const nlohmann::json& name = field(j, "", "name");
    if (!name.is_string()) bad_ann("name must be a string");
    const nlohmann::json& layers = field(j, "", "layers");
    if (!layers.is_array()) bad_ann("layers must be an array");
    if (layers.size() > 64) bad_ann("has " + std::to_string(layers.size()) + " layers, more than 64");
    Ann ann;
    ann.name = name.get<std::string>();
    for (size_t index = 0; index < layers.size(); ++index) {
        const nlohmann::json& lj = layers[index];
        const std::string what = "layers[" + std::to_string(index) + "]";
        AnnLayer l = layer_from(lj, what);
        if (!ann.layers.empty() && ann.layers.back().n_out != l.n_in)
            bad_ann(what + " does not fit the previous layer's output");
        l.w = matrix_from(field(lj, what, "w"), l.w.rows(), l.w.cols(), what + ".w");
        read_values(field(lj, what, "b"), l.b.size(), l.b.data(), what + ".b");
        if (lj.contains("mask")) {
            if (l.kind != AnnLayer::Kind::dense) bad_ann(what + ".mask: only dense layers have one");
            l.mask = matrix_from(lj.at("mask"), l.n_out, l.n_in, what + ".mask");
        }
        ann.layers.push_back(std::move(l));
    }
    if (ann.layers.empty()) bad_ann("no layers");
    return ann;
}

void save_ann(const std::string& path, const Ann& ann) { write_file_atomically(path, ann_to_json(ann).dump()); }

Ann load_ann(const std::string& path) {
    const std::string text = read_input_file(path, kMaxCheckpointBytes, "ann file", InputKind::data);
    const nlohmann::json j = parse_json_text(text, "ann file " + path);
    try {
        return ann_from_json(j);
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

}  // namespace qrsim
