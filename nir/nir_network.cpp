#include "nir/nir_network.hpp"

#include "common/bounded_input.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>

namespace qrsim {

double nir_seconds_from_ms(double ms) { return ms / 1000.0; }
double nir_ms_from_seconds(double seconds) { return seconds * 1000.0; }

double nir_input_gain(double r, double w_in, double alpha, double alpha_syn) {
    return r * (1.0 - alpha) * w_in * (1.0 - alpha_syn);
}

double nir_unit_gain_resistance(double alpha, double alpha_syn) { return 1.0 / ((1.0 - alpha) * (1.0 - alpha_syn)); }

namespace {

// Graph metadata the exporter adds for what NIR does not carry, and the exact qrsim value
// of each time it converts (import uses it only while it still converts to the file's).
constexpr const char* kMetaDt = "qrsim_dt_ms";
constexpr const char* kMetaTauM = "qrsim_tau_m_ms";
constexpr const char* kMetaTauOut = "qrsim_tau_out_ms";
constexpr const char* kMetaTauSyn = "qrsim_tau_syn_ms";
constexpr const char* kMetaTauSynOut = "qrsim_tau_syn_out_ms";
constexpr const char* kMetaTauA = "qrsim_tau_a_ms";
constexpr const char* kMetaBeta = "qrsim_beta";
constexpr const char* kMetaGamma = "qrsim_gamma";
constexpr const char* kMetaRefractory = "qrsim_refractory_steps";
constexpr const char* kMetaReset = "qrsim_reset";
constexpr const char* kMetaConfig = "qrsim_config";
constexpr const char* kMetaExtra = "qrsim_extra";

bool is_projection(const std::string& t) { return t == "Affine" || t == "Linear"; }
bool is_hidden(const std::string& t) { return t == "LIF" || t == "CubaLIF"; }
bool is_readout(const std::string& t) { return t == "LI" || t == "CubaLI"; }

const std::set<std::string>& nir_types() {
    static const std::set<std::string> types = {"Input", "Output", "Affine", "Linear", "LIF", "CubaLIF", "LI",
                                                "CubaLI", "IF", "I", "Integrator", "Delay", "Threshold", "Scale",
                                                "Conv1d", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d", "NIRGraph"};
    return types;
}

const char* kShapes =
    "qrsim holds Input -> Affine|Linear -> LIF|CubaLIF (optionally with an Affine|Linear edge back to itself) "
    "-> Affine|Linear -> LI|CubaLI -> Output, or feed-forward LIF layers";

// A time converted between seconds and milliseconds: the other side's exact original, when
// it recorded one that still converts to `value`, else the plain conversion. Both
// directions use this, so a network keeps its times bit for bit whichever side it came from.
double converted_time(double value, std::optional<double> original, double (*to_value_units)(double),
                      double (*convert)(double)) {
    if (original && to_value_units(*original) == value) return *original;
    return convert(value);
}

std::optional<double> meta_number(const NirMetadata& m, const char* key) {
    const auto it = m.numbers.find(key);
    if (it == m.numbers.end() || it->second.values.size() != 1) return std::nullopt;
    return it->second.values[0];
}

// A population of neurons (hidden layer or readout) as read from its node.
struct Population {
    std::string name;
    const NirNode* node = nullptr;
    int size = 0;
    double tau_s = 0, tau_syn_s = 0, v_th = 0;
    std::vector<double> r, w_in, v_leak;
};

class Importer {
public:
    Importer(const NirGraph& g, const NirImportOptions& o, std::string origin) : g_(g), o_(o), origin_(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& message) const { throw std::runtime_error("NIR file " + origin_ + ": " + message); }

    Checkpoint run() {
        check_types_and_edges();
        walk();
        return build();
    }

private:
    std::string type_of(const std::string& name) const { return g_.nodes.at(name).type; }
    std::string label(const std::string& name) const { return "node '" + name + "' (" + type_of(name) + ")"; }

    void check_types_and_edges() {
        for (const auto& [name, node] : g_.nodes) {
            if (!nir_types().count(node.type)) fail("node '" + name + "' has the unknown NIR type '" + node.type + "'");
            const bool held = node.type == "Input" || node.type == "Output" || is_projection(node.type) ||
                              is_hidden(node.type) || is_readout(node.type);
            if (!held) fail(label(name) + ": " + node.type + " is not supported (" + kShapes + ")");
        }
        std::set<std::pair<std::string, std::string>> seen;
        for (size_t e = 0; e < g_.edges.size(); ++e) {
            const auto& [from, to] = g_.edges[e];
            for (const std::string* end : {&from, &to})
                if (!g_.nodes.count(*end)) fail("edge " + std::to_string(e) + " ('" + from + "' -> '" + to + "') names no node '" + *end + "'");
            if (!seen.insert(g_.edges[e]).second) fail("edge '" + from + "' -> '" + to + "' appears twice");
            succ_[from].push_back(to);
            pred_[to].push_back(from);
        }
        for (const auto& [name, node] : g_.nodes) find_cycle(name);
    }

    // A population's own recurrent projection: h -> p -> h, p reading and feeding only h.
    bool is_recurrent_edge(const std::string& from, const std::string& to) const {
        auto loop = [&](const std::string& p, const std::string& h) {
            return is_projection(type_of(p)) && is_hidden(type_of(h)) && succ(p) == std::vector<std::string>{h} &&
                   pred(p) == std::vector<std::string>{h};
        };
        return loop(from, to) || loop(to, from);
    }

    // Depth-first search for a cycle other than a recurrent projection; iterative, so a long
    // chain cannot overflow the stack.
    void find_cycle(const std::string& root) {
        if (colour_[root] != 0) return;
        std::vector<std::pair<std::string, size_t>> stack = {{root, 0}};
        colour_[root] = 1;
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            const std::vector<std::string>& out = succ(node);
            if (next == out.size()) {
                colour_[node] = 2;
                stack.pop_back();
                continue;
            }
            const std::string to = out[next++];
            if (is_recurrent_edge(node, to)) continue;
            if (colour_[to] == 1)
                fail("edge '" + node + "' -> '" + to + "' closes a cycle qrsim cannot hold (" + kShapes + ")");
            if (colour_[to] == 0) {
                colour_[to] = 1;
                const std::string copy = to;
                stack.emplace_back(copy, 0);
            }
        }
    }

    std::string only(const std::vector<std::string>& names, const std::string& what) const {
        if (names.size() != 1) fail(what + " (found " + std::to_string(names.size()) + ")");
        return names[0];
    }
    const std::vector<std::string>& succ(const std::string& n) const {
        static const std::vector<std::string> none;
        const auto it = succ_.find(n);
        return it == succ_.end() ? none : it->second;
    }
    const std::vector<std::string>& pred(const std::string& n) const {
        static const std::vector<std::string> none;
        const auto it = pred_.find(n);
        return it == pred_.end() ? none : it->second;
    }

    // Follows the chain from Input to Output, naming the first node that leaves the shapes.
    void walk() {
        std::vector<std::string> inputs, outputs;
        for (const auto& [name, node] : g_.nodes) {
            if (node.type == "Input") inputs.push_back(name);
            if (node.type == "Output") outputs.push_back(name);
        }
        input_ = only(inputs, "the graph must have exactly one Input node");
        output_ = only(outputs, "the graph must have exactly one Output node");
        visit(input_);
        std::string proj = expect_projection(input_);
        for (;;) {
            const std::string next = only(succ(proj), label(proj) + " must feed exactly one node");
            const std::string& t = type_of(next);
            if (visited_.count(next)) fail("edge '" + proj + "' -> '" + next + "' closes a cycle qrsim cannot hold (" + kShapes + ")");
            if (is_hidden(t)) {
                visit(next);
                hidden_.push_back(next);
                into_.push_back(proj);
                proj = hidden_successor(next);
                continue;
            }
            if (is_readout(t)) {
                if (hidden_.empty()) fail(label(next) + " reads the input directly: qrsim needs a LIF or CubaLIF population before the readout");
                visit(next);
                readout_ = next;
                readout_proj_ = proj;
                const std::string after = only(succ(next), label(next) + " must feed exactly one node, the Output");
                if (after != output_) fail(label(next) + " feeds " + label(after) + ": after the readout qrsim expects the Output (" + kShapes + ")");
                if (pred(output_).size() != 1) fail(label(output_) + " has " + std::to_string(pred(output_).size()) + " inputs, qrsim's readout is its only one");
                visit(output_);
                break;
            }
            if (t == "Output") fail(label(proj) + " feeds the Output directly: qrsim's readout is a leaky integrator (LI or CubaLI) after the last projection");
            fail(label(next) + " follows " + label(proj) + ": " + t + " is not supported there (" + kShapes + ")");
        }
        if (hidden_.size() > 1 && !recurrent_.empty())
            fail(label(recurrent_) + ": recurrence in a network of several hidden layers is not supported (" + kShapes + ")");
        for (const auto& [name, node] : g_.nodes)
            if (!visited_.count(name)) fail(label(name) + " is not on the path from the Input to the Output (" + kShapes + ")");
    }

    void visit(const std::string& n) { visited_.insert(n); }

    std::string expect_projection(const std::string& from) {
        const std::string p = only(succ(from), label(from) + " must feed exactly one node");
        if (!is_projection(type_of(p)))
            fail(label(p) + " follows " + label(from) + ": qrsim needs an Affine or Linear projection there (" + kShapes + ")");
        if (pred(p).size() != 1) fail(label(p) + " has " + std::to_string(pred(p).size()) + " inputs, a projection reads one node");
        visit(p);
        return p;
    }

    // A hidden population's outgoing projections: at most one back to itself, exactly one on.
    std::string hidden_successor(const std::string& h) {
        std::vector<std::string> forward;
        bool has_recurrent = false;
        for (const std::string& p : succ(h)) {
            if (!is_projection(type_of(p))) fail(label(p) + " follows " + label(h) + ": qrsim needs an Affine or Linear projection there (" + kShapes + ")");
            if (pred(p).size() != 1) fail(label(p) + " has " + std::to_string(pred(p).size()) + " inputs, a projection reads one node");
            const std::string target = only(succ(p), label(p) + " must feed exactly one node");
            if (target == h) {
                if (!recurrent_.empty()) fail(label(p) + ": a second recurrent projection of " + label(h) + " is not supported");
                recurrent_ = p;
                has_recurrent = true;
                visit(p);
            } else {
                forward.push_back(p);
            }
        }
        const size_t inputs = pred(h).size();
        if (inputs != 1 + (has_recurrent ? 1u : 0u))
            fail(label(h) + " has " + std::to_string(inputs) + " inputs: qrsim's populations read one projection (and their own recurrent one)");
        const std::string p = only(forward, label(h) + " must feed exactly one projection onward");
        visit(p);
        return p;
    }

    const NirArray& param(const std::string& node, const std::string& key) const {
        const auto& params = g_.nodes.at(node).params;
        const auto it = params.find(key);
        if (it == params.end()) fail(label(node) + ": missing parameter '" + key + "'");
        return it->second;
    }

    // One value per neuron: an array of n values (any shape) or one value for all.
    std::vector<double> per_neuron(const std::string& node, const std::string& key, int n, std::optional<double> missing = {}) const {
        const auto& params = g_.nodes.at(node).params;
        if (!params.count(key) && missing) return std::vector<double>(static_cast<size_t>(n), *missing);
        const NirArray& a = param(node, key);
        if (a.values.size() == 1) return std::vector<double>(static_cast<size_t>(n), a.values[0]);
        if (a.values.size() != static_cast<size_t>(n))
            fail(label(node) + ": '" + key + "' has " + std::to_string(a.values.size()) + " values, the population has " + std::to_string(n) + " neurons");
        return a.values;
    }

    double shared(const std::string& node, const std::string& key, int n) const {
        const std::vector<double> v = per_neuron(node, key, n);
        for (double x : v)
            if (x != v[0]) fail(label(node) + ": '" + key + "' differs across neurons; qrsim's neurons share one value");
        return v[0];
    }

    // The number of values a node's output carries.
    int size_of_input() const {
        const NirArray& shape = param(input_, "shape");
        double n = 1;
        for (double d : shape.values) {
            if (d < 1 || d != std::floor(d)) fail(label(input_) + ": shape holds " + std::to_string(d) + ", not a positive size");
            n *= d;
        }
        if (n > 10'000'000) fail(label(input_) + ": " + std::to_string(n) + " inputs is more than qrsim reads");
        return static_cast<int>(n);
    }

    Matrix weight(const std::string& proj, int in) const {
        const NirArray& w = param(proj, "weight");
        if (w.shape.size() != 2)
            fail(label(proj) + ": weight has rank " + std::to_string(w.shape.size()) + ", a projection's is out x in");
        if (w.shape[1] != in)
            fail(label(proj) + ": weight is " + std::to_string(w.shape[0]) + " x " + std::to_string(w.shape[1]) + ", its input has " + std::to_string(in) + " values");
        if (w.shape[0] < 1) fail(label(proj) + ": weight has no rows");
        Matrix m(w.shape[0], w.shape[1]);
        std::copy(w.values.begin(), w.values.end(), m.data());
        return m;
    }

    Vector bias(const std::string& proj, int out) const {
        if (type_of(proj) == "Linear") return Vector::Zero(out);
        const NirArray& b = param(proj, "bias");
        if (b.values.size() != static_cast<size_t>(out))
            fail(label(proj) + ": bias has " + std::to_string(b.values.size()) + " values, weight has " + std::to_string(out) + " rows");
        return Eigen::Map<const Vector>(b.values.data(), out);
    }

    Population population(const std::string& name, int n) const {
        Population p;
        p.name = name;
        p.node = &g_.nodes.at(name);
        p.size = n;
        const std::string& t = p.node->type;
        const bool cuba = t == "CubaLIF" || t == "CubaLI";
        p.tau_s = shared(name, cuba ? "tau_mem" : "tau", n);
        p.tau_syn_s = cuba ? shared(name, "tau_syn", n) : 0.0;
        if (!(p.tau_s > 0) || (cuba && !(p.tau_syn_s > 0))) fail(label(name) + ": time constants must be > 0 seconds");
        p.r = per_neuron(name, "r", n);
        p.w_in = cuba ? per_neuron(name, "w_in", n, 1.0) : std::vector<double>(static_cast<size_t>(n), 1.0);
        p.v_leak = per_neuron(name, "v_leak", n, 0.0);
        if (cuba)
            for (double v : p.v_leak)
                if (v != 0) fail(label(name) + ": v_leak != 0 is not supported for current-based neurons (qrsim's bias enters the synaptic current)");
        if (is_hidden(t)) {
            p.v_th = shared(name, "v_threshold", n);
            if (!(p.v_th > 0)) fail(label(name) + ": v_threshold must be > 0 (qrsim's threshold is positive)");
            for (double v : per_neuron(name, "v_reset", n, 0.0))
                if (v != 0) fail(label(name) + ": v_reset != 0 is not supported (qrsim resets to zero or by subtraction)");
        }
        return p;
    }

    // The qrsim time (ms) of a NIR time; a time without the exporter's exact value is recorded
    // in extra.nir.seconds, so exporting the network writes the file's seconds back.
    double time_ms(double seconds, const char* meta_key, const char* name) {
        const std::optional<double> exact = meta_number(g_.metadata, meta_key);
        if (!exact || nir_seconds_from_ms(*exact) != seconds) seconds_[name] = seconds;
        return converted_time(seconds, exact, nir_seconds_from_ms, nir_ms_from_seconds);
    }

    // Per-neuron gains (row scales of the incoming weights): exactly 1 at the unit resistance.
    std::vector<double> gains(const Population& p, double alpha, double alpha_syn) const {
        std::vector<double> g(static_cast<size_t>(p.size));
        const double unit_r = nir_unit_gain_resistance(alpha, alpha_syn);
        for (int j = 0; j < p.size; ++j)
            g[j] = p.r[j] == unit_r && p.w_in[j] == 1.0 ? 1.0 : nir_input_gain(p.r[j], p.w_in[j], alpha, alpha_syn);
        return g;
    }

    Checkpoint build() {
        Checkpoint cp;
        RsnnParams& q = cp.params;
        q = RsnnParams{};
        const NirMetadata& m = g_.metadata;
        q.dt = o_.dt_ms > 0 ? o_.dt_ms : meta_number(m, kMetaDt).value_or(1.0);
        q.n_alif = 0;
        q.refractory = 0;  // NIR's neurons have none
        if (auto v = meta_number(m, kMetaRefractory)) q.refractory = static_cast<int>(std::clamp(*v, 0.0, 100.0));
        if (auto v = meta_number(m, kMetaGamma); v && *v > 0) q.gamma = *v;
        if (auto v = meta_number(m, kMetaTauA); v && *v > 0) q.tau_a = *v;
        if (auto v = meta_number(m, kMetaBeta); v && *v >= 0) q.beta = *v;
        const auto reset = m.texts.find(kMetaReset);
        q.reset_to_zero = reset != m.texts.end() && reset->second == "subtract" ? 0 : 1;

        // Hidden layers: one shared neuron model.
        const int n_in = size_of_input();
        std::vector<Population> layers;
        std::vector<Matrix> w_into;
        std::vector<Vector> b_into;
        int width = n_in;
        for (size_t l = 0; l < hidden_.size(); ++l) {
            Matrix w = weight(into_[l], width);
            b_into.push_back(bias(into_[l], static_cast<int>(w.rows())));
            layers.push_back(population(hidden_[l], static_cast<int>(w.rows())));
            width = static_cast<int>(w.rows());
            w_into.push_back(std::move(w));
            const Population& a = layers.front();
            const Population& b = layers.back();
            if (b.node->type != a.node->type || b.tau_s != a.tau_s || b.tau_syn_s != a.tau_syn_s || b.v_th != a.v_th)
                fail(label(b.name) + ": its neuron model differs from " + label(a.name) + "'s; qrsim's neurons share one");
        }
        const Population& h = layers.front();
        q.tau_m = time_ms(h.tau_s, kMetaTauM, "tau_m");
        q.tau_syn = h.tau_syn_s > 0 ? time_ms(h.tau_syn_s, kMetaTauSyn, "tau_syn") : 0.0;
        q.v_th = h.v_th;
        q.n_in = n_in;
        q.n_rec = 0;
        for (const Population& p : layers) q.n_rec += p.size;

        const Matrix w_out = weight(readout_proj_, width);
        const Vector b_out = bias(readout_proj_, static_cast<int>(w_out.rows()));
        q.n_out = static_cast<int>(w_out.rows());
        const Population out = population(readout_, q.n_out);
        q.tau_out = time_ms(out.tau_s, kMetaTauOut, "tau_out");
        q.tau_syn_out = out.tau_syn_s > 0 ? time_ms(out.tau_syn_s, kMetaTauSynOut, "tau_syn_out") : 0.0;
        const NirArray& out_shape = param(output_, "shape");
        double out_n = 1;
        for (double d : out_shape.values) out_n *= d;
        if (out_n != q.n_out)
            fail(label(output_) + ": shape holds " + std::to_string(static_cast<long long>(out_n)) + " values, the readout " +
                 std::to_string(q.n_out));

        cp.weights.resize_zero(q);
        RsnnWeights& w = cp.weights;
        const double alpha = q.alpha(), alpha_syn = q.alpha_syn();
        int first = 0;
        for (size_t l = 0; l < layers.size(); ++l) {
            const Population& p = layers[l];
            const std::vector<double> g = gains(p, alpha, alpha_syn);
            for (int j = 0; j < p.size; ++j) {
                const int row = first + j;
                if (l == 0) w.w_in.row(row) = g[j] * w_into[l].row(j);
                else w.w_rec.block(row, first - layers[l - 1].size, 1, layers[l - 1].size) = g[j] * w_into[l].row(j);
                // v_leak drives the membrane directly: (1 - alpha) per step, whatever r is.
                w.b_rec[row] = g[j] * b_into[l][j] + (1.0 - alpha) * p.v_leak[j];
            }
            first += p.size;
        }
        if (!recurrent_.empty()) {
            const Matrix w_rec = weight(recurrent_, h.size);
            if (w_rec.rows() != h.size) fail(label(recurrent_) + ": weight has " + std::to_string(w_rec.rows()) + " rows, the population " + std::to_string(h.size) + " neurons");
            const Vector b_rec = bias(recurrent_, h.size);
            const std::vector<double> g = gains(h, alpha, alpha_syn);
            for (int j = 0; j < h.size; ++j) {
                w.w_rec.row(j) = g[j] * w_rec.row(j);
                w.b_rec[j] += g[j] * b_rec[j];
            }
        }
        const int last_first = q.n_rec - layers.back().size;
        const double kappa = q.kappa(), kappa_syn = q.kappa_syn();
        const std::vector<double> g_out = gains(out, kappa, kappa_syn);
        for (int k = 0; k < q.n_out; ++k) {
            w.w_out.block(k, last_first, 1, layers.back().size) = g_out[k] * w_out.row(k);
            w.b_out[k] = g_out[k] * b_out[k] + (1.0 - kappa) * out.v_leak[k];
        }

        if (const auto it = m.texts.find(kMetaConfig); it != m.texts.end()) {
            cp.config = parse_json_text(it->second, "NIR file " + origin_ + " metadata " + kMetaConfig);
            if (!cp.config.is_object()) fail(std::string("metadata ") + kMetaConfig + " is not a JSON object");
        }
        if (const auto it = m.texts.find(kMetaExtra); it != m.texts.end()) {
            cp.extra = parse_json_text(it->second, "NIR file " + origin_ + " metadata " + kMetaExtra);
            if (!cp.extra.is_object()) fail(std::string("metadata ") + kMetaExtra + " is not a JSON object");
        }
        if (layers.size() > 1) {
            nlohmann::json sizes = nlohmann::json::array();
            for (const Population& p : layers) sizes.push_back(p.size);
            cp.extra["nir"]["layers"] = sizes;
        }
        for (const auto& [name, seconds] : seconds_) cp.extra["nir"]["seconds"][name] = seconds;
        return cp;
    }

    const NirGraph& g_;
    NirImportOptions o_;
    std::string origin_;
    std::map<std::string, std::vector<std::string>> succ_, pred_;
    std::set<std::string> visited_;
    std::map<std::string, int> colour_;
    std::map<std::string, double> seconds_;  // times without the exporter's exact value  // cycle search: 0 unseen, 1 on the path, 2 done
    std::string input_, output_, readout_, readout_proj_, recurrent_;
    std::vector<std::string> hidden_, into_;  // hidden layers and the projection into each
};

// The hidden layers' sizes: the import's record, else a converted network's per-layer levels.
std::vector<int> layer_sizes(const Checkpoint& cp) {
    std::vector<int> sizes;
    const nlohmann::json& x = cp.extra;
    if (x.is_object() && x.contains("nir") && x["nir"].is_object() && x["nir"].contains("layers") && x["nir"]["layers"].is_array()) {
        for (const auto& s : x["nir"]["layers"]) {
            if (!s.is_number_integer() || s.get<int64_t>() < 1) throw std::runtime_error("cannot export: checkpoint extra.nir.layers must hold positive sizes");
            sizes.push_back(s.get<int>());
        }
    } else if (x.is_object() && x.contains("constraint")) {
        for (const auto& l : constraint_from_extra(x).layers) sizes.push_back(l.neurons);
    }
    int sum = 0;
    for (int s : sizes) sum += s;
    if (sizes.empty() || sum != cp.params.n_rec) return {cp.params.n_rec};
    return sizes;
}

// The NIR time (s) of a qrsim time: the imported file's own seconds while they convert to it.
double time_seconds(const Checkpoint& cp, const char* name, double ms) {
    std::optional<double> original;
    const nlohmann::json& x = cp.extra;
    if (x.is_object() && x.contains("nir") && x["nir"].is_object() && x["nir"].contains("seconds") &&
        x["nir"]["seconds"].is_object() && x["nir"]["seconds"].contains(name) && x["nir"]["seconds"][name].is_number())
        original = x["nir"]["seconds"][name].get<double>();
    return converted_time(ms, original, nir_ms_from_seconds, nir_seconds_from_ms);
}

NirArray matrix_array(const Matrix& m) {
    NirArray a;
    a.shape = {m.rows(), m.cols()};
    a.values.assign(m.data(), m.data() + m.size());
    return a;
}

NirArray vector_array(const Vector& v) { return NirArray::vector(std::vector<double>(v.data(), v.data() + v.size())); }

NirArray filled(int n, double v) { return NirArray::vector(std::vector<double>(static_cast<size_t>(n), v)); }

NirNode shape_node(const char* type, int n) {
    NirNode node;
    node.type = type;
    NirArray shape = NirArray::vector({static_cast<double>(n)});
    shape.integer = true;
    node.params["shape"] = shape;
    return node;
}

NirNode projection(const Matrix& w, const Vector& b) {
    NirNode node;
    node.params["weight"] = matrix_array(w);
    if (b.isZero(0.0)) {
        node.type = "Linear";
    } else {
        node.type = "Affine";
        node.params["bias"] = vector_array(b);
    }
    return node;
}

}  // namespace

Checkpoint checkpoint_from_nir(const NirGraph& graph, const NirImportOptions& options, const std::string& origin) {
    return Importer(graph, options, origin).run();
}

NirGraph nir_from_checkpoint(const Checkpoint& cp, std::vector<std::string>& notes) {
    const RsnnParams& p = cp.params;
    const RsnnWeights& w = cp.weights;
    if (p.n_alif > 0)
        throw std::runtime_error("cannot export: the network has " + std::to_string(p.n_alif) +
                                 " ALIF neurons, and NIR has no neuron with an adaptive threshold");
    const std::vector<int> sizes = layer_sizes(cp);
    const bool layered = sizes.size() > 1;
    const Vector b_rec = w.b_rec.size() ? w.b_rec : Vector::Zero(p.n_rec);

    // A layered network must be feed-forward block by block, or its NIR graph would drop weights.
    std::vector<int> first(sizes.size(), 0);
    for (size_t l = 1; l < sizes.size(); ++l) first[l] = first[l - 1] + sizes[l - 1];
    if (layered) {
        Matrix expected_zero_in = w.w_in;
        expected_zero_in.topRows(sizes[0]).setZero();
        Matrix rec = w.w_rec;
        for (size_t l = 1; l < sizes.size(); ++l) rec.block(first[l], first[l - 1], sizes[l], sizes[l - 1]).setZero();
        Matrix out = w.w_out;
        out.rightCols(sizes.back()).setZero();
        if (!expected_zero_in.isZero(0.0) || !rec.isZero(0.0) || !out.isZero(0.0))
            throw std::runtime_error("cannot export: the network's weights do not follow its layers (input into layer 0 only, "
                                     "layer l-1 into layer l, the readout from the last layer)");
    }

    NirGraph g;
    g.version = kNirVersion;
    const double alpha = p.alpha(), alpha_syn = p.alpha_syn();
    const bool cuba = p.tau_syn > 0;
    std::string previous = "input";
    g.nodes["input"] = shape_node("Input", p.n_in);
    for (size_t l = 0; l < sizes.size(); ++l) {
        const std::string suffix = layered ? std::to_string(l) : "";
        const std::string proj = "fc" + (layered ? suffix : std::string("_in")), neurons = (cuba ? "cubalif" : "lif") + suffix;
        const Matrix block = l == 0 ? Matrix(w.w_in.topRows(sizes[0]))
                                    : Matrix(w.w_rec.block(first[l], first[l - 1], sizes[l], sizes[l - 1]));
        g.nodes[proj] = projection(block, b_rec.segment(first[l], sizes[l]));
        NirNode n;
        n.type = cuba ? "CubaLIF" : "LIF";
        const int size = sizes[l];
        n.params[cuba ? "tau_mem" : "tau"] = filled(size, time_seconds(cp, "tau_m", p.tau_m));
        if (cuba) {
            n.params["tau_syn"] = filled(size, time_seconds(cp, "tau_syn", p.tau_syn));
            n.params["w_in"] = filled(size, 1.0);
        }
        n.params["r"] = filled(size, nir_unit_gain_resistance(alpha, alpha_syn));
        n.params["v_leak"] = filled(size, 0.0);
        n.params["v_threshold"] = filled(size, p.v_th);
        n.params["v_reset"] = filled(size, 0.0);
        g.nodes[neurons] = n;
        g.edges.emplace_back(previous, proj);
        g.edges.emplace_back(proj, neurons);
        previous = neurons;
    }
    if (!layered && !w.w_rec.isZero(0.0)) {
        g.nodes["fc_rec"] = projection(w.w_rec, Vector::Zero(p.n_rec));
        g.edges.emplace_back(previous, "fc_rec");
        g.edges.emplace_back("fc_rec", previous);
    }
    g.nodes["fc_out"] = projection(w.w_out.rightCols(sizes.back()), w.b_out);
    NirNode readout;
    const bool cuba_out = p.tau_syn_out > 0;
    readout.type = cuba_out ? "CubaLI" : "LI";
    readout.params[cuba_out ? "tau_mem" : "tau"] = filled(p.n_out, time_seconds(cp, "tau_out", p.tau_out));
    if (cuba_out) {
        readout.params["tau_syn"] = filled(p.n_out, time_seconds(cp, "tau_syn_out", p.tau_syn_out));
        readout.params["w_in"] = filled(p.n_out, 1.0);
    }
    readout.params["r"] = filled(p.n_out, nir_unit_gain_resistance(p.kappa(), p.kappa_syn()));
    readout.params["v_leak"] = filled(p.n_out, 0.0);
    const std::string readout_name = cuba_out ? "cubali" : "li";
    g.nodes[readout_name] = readout;
    g.nodes["output"] = shape_node("Output", p.n_out);
    g.edges.emplace_back(previous, "fc_out");
    g.edges.emplace_back("fc_out", readout_name);
    g.edges.emplace_back(readout_name, "output");

    NirMetadata& m = g.metadata;
    m.numbers[kMetaDt] = NirArray::scalar(p.dt);
    m.numbers[kMetaTauM] = NirArray::scalar(p.tau_m);
    m.numbers[kMetaTauOut] = NirArray::scalar(p.tau_out);
    if (cuba) m.numbers[kMetaTauSyn] = NirArray::scalar(p.tau_syn);
    if (cuba_out) m.numbers[kMetaTauSynOut] = NirArray::scalar(p.tau_syn_out);
    m.numbers[kMetaTauA] = NirArray::scalar(p.tau_a);
    m.numbers[kMetaBeta] = NirArray::scalar(p.beta);
    m.numbers[kMetaGamma] = NirArray::scalar(p.gamma);
    m.numbers[kMetaRefractory] = NirArray::scalar(p.refractory);
    m.texts[kMetaReset] = p.reset_to_zero ? "zero" : "subtract";
    m.texts[kMetaConfig] = cp.config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (cp.extra.is_object() && !cp.extra.empty())
        m.texts[kMetaExtra] = cp.extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

    if (!p.reset_to_zero)
        notes.push_back("qrsim's neurons reset by subtracting v_th, NIR's LIF resets to v_reset = 0: other simulators run them "
                        "with reset to zero (qrsim reads its own reset back from the metadata)");
    if (p.refractory > 0)
        notes.push_back("the neurons are refractory for " + std::to_string(p.refractory) +
                        " steps, NIR's LIF has no refractory period (kept in the metadata for qrsim)");
    if (layered)
        notes.push_back("qrsim delays each layer by one step (layer l reads layer l-1's previous spikes); NIR's graph has no delays");
    return g;
}

}  // namespace qrsim
