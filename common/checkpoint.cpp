#include "common/checkpoint.hpp"

#include "common/atomic_file.hpp"
#include "common/bounded_input.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace qrsim {

using nlohmann::json;

namespace {

// Every RsnnParams field once, for both directions. n_in/n_out are shapes, not knobs,
// but a checkpoint must be loadable without the task that produced it.
template <class F>
void for_each_param(RsnnParams& p, F&& f) {
    f("n_in", p.n_in);
    f("n_rec", p.n_rec);
    f("n_alif", p.n_alif);
    f("n_out", p.n_out);
    f("tau_m", p.tau_m);
    f("tau_a", p.tau_a);
    f("tau_out", p.tau_out);
    f("v_th", p.v_th);
    f("beta", p.beta);
    f("refractory", p.refractory);
    f("gamma", p.gamma);
    f("dt", p.dt);
}

// Fields added after version 1 was fixed: a checkpoint without them keeps the defaults,
// which are the dynamics it was trained with.
template <class F>
void for_each_later_param(RsnnParams& p, F&& f) {
    f("tau_syn", p.tau_syn);
    f("tau_syn_out", p.tau_syn_out);
    f("reset_to_zero", p.reset_to_zero);
}

json matrix_to_json(const std::string& name, const double* data, Eigen::Index rows,
                    Eigen::Index cols) {
    json values = json::array();
    values.get_ref<json::array_t&>().reserve(static_cast<size_t>(rows * cols));
    for (Eigen::Index i = 0; i < rows * cols; ++i) {
        if (!std::isfinite(data[i]))
            throw std::runtime_error("cannot save checkpoint: weights." + name +
                                     " holds a non-finite value at index " + std::to_string(i));
        values.push_back(data[i]);
    }
    return {{"rows", rows}, {"cols", cols}, {"data", std::move(values)}};
}

void require_shape(const std::string& name, Eigen::Index rows, Eigen::Index cols,
                   Eigen::Index want_rows, Eigen::Index want_cols) {
    if (rows != want_rows || cols != want_cols)
        throw std::runtime_error("cannot save checkpoint: weights." + name + " is " +
                                 std::to_string(rows) + "x" + std::to_string(cols) +
                                 ", params say " + std::to_string(want_rows) + "x" +
                                 std::to_string(want_cols));
}

constexpr int64_t kMaxInteger = 10'000'000;

// Reads one checkpoint; every error names the file and the JSON path of the bad field.
class Reader {
public:
    explicit Reader(std::string path) : path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& message) const {
        throw std::runtime_error("checkpoint " + path_ + ": " + message);
    }

    const json& member(const json& object, const std::string& parent, const std::string& key) const {
        const std::string where = parent.empty() ? key : parent + "." + key;
        if (!object.is_object()) fail((parent.empty() ? "top level" : parent) + " is not an object");
        const auto it = object.find(key);
        if (it == object.end()) fail("missing field " + where);
        return *it;
    }

    template <class T>
    T number(const json& value, const std::string& where) const {
        if constexpr (std::is_integral_v<T>) {
            if (!value.is_number_integer()) fail(where + " must be an integer");
            // Sizes and step counts; the bound keeps sums such as n_in + n_rec within an int.
            if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{kMaxInteger})
                fail(where + " = " + std::to_string(value.get<uint64_t>()) + " is out of range (0.." +
                     std::to_string(kMaxInteger) + ")");
            const auto v = value.get<int64_t>();
            if (v < 0 || v > kMaxInteger)
                fail(where + " = " + std::to_string(v) + " is out of range (0.." + std::to_string(kMaxInteger) + ")");
            return static_cast<T>(v);
        } else {
            if (!value.is_number()) fail(where + " must be a number");
            const T v = value.get<T>();
            if (!std::isfinite(v)) fail(where + " must be finite");
            return v;
        }
    }

    void read_params(const json& j, RsnnParams& p) const {
        for_each_param(p, [&](const char* key, auto& field) {
            field = number<std::decay_t<decltype(field)>>(member(j, "params", key),
                                                          std::string("params.") + key);
        });
        for_each_later_param(p, [&](const char* key, auto& field) {
            if (j.is_object() && j.contains(key))
                field = number<std::decay_t<decltype(field)>>(j.at(key), std::string("params.") + key);
        });
        if (p.tau_syn < 0) fail("params.tau_syn must be >= 0 (0: no synaptic filter)");
        if (p.tau_syn_out < 0) fail("params.tau_syn_out must be >= 0 (0: no synaptic filter)");
        if (p.reset_to_zero > 1) fail("params.reset_to_zero must be 0 or 1");
        if (p.n_in < 1) fail("params.n_in must be >= 1");
        if (p.n_rec < 1) fail("params.n_rec must be >= 1");
        if (p.n_out < 1) fail("params.n_out must be >= 1");
        if (p.n_alif > p.n_rec) fail("params.n_alif = " + std::to_string(p.n_alif) +
                                     " exceeds params.n_rec = " + std::to_string(p.n_rec));
        const std::initializer_list<std::pair<const char*, double>> positive = {
            {"tau_m", p.tau_m}, {"tau_a", p.tau_a}, {"tau_out", p.tau_out}, {"v_th", p.v_th}, {"dt", p.dt}};
        for (const auto& [key, value] : positive)
            if (!(value > 0)) fail(std::string("params.") + key + " must be > 0");
    }

    // Checks weights.<name> against the params' shape before anything is allocated: the
    // params alone must not size a matrix (a 251-byte file claiming n_rec = 50000 would
    // otherwise ask for 20 GB), the values actually present in the file bound it.
    void check_matrix(const json& weights, const std::string& name, Eigen::Index rows, Eigen::Index cols,
                      const char* shape_source) const {
        const json& m = member(weights, "weights", name);
        const std::string where = "weights." + name;
        const auto r = number<int64_t>(member(m, where, "rows"), where + ".rows");
        const auto c = number<int64_t>(member(m, where, "cols"), where + ".cols");
        if (r != rows || c != cols)
            fail(where + " is " + std::to_string(r) + "x" + std::to_string(c) + ", expected " +
                 std::to_string(rows) + "x" + std::to_string(cols) + " from " + shape_source);
        const json& values = member(m, where, "data");
        if (!values.is_array()) fail(where + ".data must be an array");
        // rows, cols <= 1e9 each (number<>), so the product fits an Eigen::Index.
        if (static_cast<Eigen::Index>(values.size()) != rows * cols)
            fail(where + ".data has " + std::to_string(values.size()) + " values, expected " +
                 std::to_string(rows * cols));
    }

    // Fills `data` (sized rows x cols after check_matrix) from weights.<name>.
    void read_matrix(const json& weights, const std::string& name, double* data, Eigen::Index size) const {
        const std::string where = "weights." + name;
        const json& values = weights.at(name).at("data");
        for (Eigen::Index i = 0; i < size; ++i) {
            const json& v = values[static_cast<size_t>(i)];
            if (!v.is_number()) fail(where + ".data[" + std::to_string(i) + "] is not a number");
            data[i] = v.get<double>();
        }
    }

    Checkpoint read(const std::string& text) const {
        const json root = parse_json_text(text, "checkpoint " + path_);
        // Values are never echoed into messages: a 1 MB value would make a 1 MB error line.
        const json& format = member(root, "", "format");
        if (!format.is_string() || format.get<std::string>() != kCheckpointFormat)
            fail(std::string("format is not \"") + kCheckpointFormat + "\" (not a qrsim checkpoint)");
        const json& version = member(root, "", "version");
        if (!version.is_number_integer() || version.get<int64_t>() != kCheckpointVersion)
            fail("version is not " + std::to_string(kCheckpointVersion) + ", the version this build reads");

        Checkpoint cp;
        read_params(member(root, "", "params"), cp.params);
        const RsnnParams& p = cp.params;
        const json& w = member(root, "", "weights");
        check_matrix(w, "w_in", p.n_rec, p.n_in, "params.n_rec x params.n_in");
        check_matrix(w, "w_rec", p.n_rec, p.n_rec, "params.n_rec x params.n_rec");
        check_matrix(w, "w_out", p.n_out, p.n_rec, "params.n_out x params.n_rec");
        check_matrix(w, "b_out", p.n_out, 1, "params.n_out x 1");
        const bool has_b_rec = w.contains("b_rec");  // optional: networks without hidden biases omit it
        if (has_b_rec) check_matrix(w, "b_rec", p.n_rec, 1, "params.n_rec x 1");
        cp.weights.resize_zero(p);
        read_matrix(w, "w_in", cp.weights.w_in.data(), cp.weights.w_in.size());
        read_matrix(w, "w_rec", cp.weights.w_rec.data(), cp.weights.w_rec.size());
        read_matrix(w, "w_out", cp.weights.w_out.data(), cp.weights.w_out.size());
        read_matrix(w, "b_out", cp.weights.b_out.data(), cp.weights.b_out.size());
        if (has_b_rec) read_matrix(w, "b_rec", cp.weights.b_rec.data(), cp.weights.b_rec.size());

        const json& config = member(root, "", "config");
        if (!config.is_object()) fail("config must be an object");
        cp.config = config;
        if (const auto it = root.find("extra"); it != root.end()) {
            if (!it->is_object()) fail("extra must be an object");
            cp.extra = *it;
        }
        return cp;
    }

private:
    std::string path_;
};

}  // namespace

json params_to_json(const RsnnParams& params) {
    json j = json::object();
    RsnnParams copy = params;  // for_each_param visits mutable fields
    for_each_param(copy, [&](const char* key, const auto& value) { j[key] = value; });
    for_each_later_param(copy, [&](const char* key, const auto& value) { j[key] = value; });
    return j;
}

void save_checkpoint(const std::string& path, const Checkpoint& cp) { write_file_atomically(path, checkpoint_text(cp)); }

std::string checkpoint_text(const Checkpoint& cp) {
    const RsnnParams& p = cp.params;
    const RsnnWeights& w = cp.weights;
    require_shape("w_in", w.w_in.rows(), w.w_in.cols(), p.n_rec, p.n_in);
    require_shape("w_rec", w.w_rec.rows(), w.w_rec.cols(), p.n_rec, p.n_rec);
    require_shape("w_out", w.w_out.rows(), w.w_out.cols(), p.n_out, p.n_rec);
    require_shape("b_out", w.b_out.rows(), 1, p.n_out, 1);
    const bool has_b_rec = w.b_rec.size() > 0 && !w.b_rec.isZero(0.0);
    if (has_b_rec) require_shape("b_rec", w.b_rec.rows(), 1, p.n_rec, 1);
    if (!cp.config.is_object()) throw std::runtime_error("cannot save checkpoint: config must be an object");
    if (!cp.extra.is_null() && !cp.extra.is_object())
        throw std::runtime_error("cannot save checkpoint: extra must be an object");

    json root = {
        {"format", kCheckpointFormat},
        {"version", kCheckpointVersion},
        {"params", params_to_json(p)},
        {"weights",
         {{"w_in", matrix_to_json("w_in", w.w_in.data(), w.w_in.rows(), w.w_in.cols())},
          {"w_rec", matrix_to_json("w_rec", w.w_rec.data(), w.w_rec.rows(), w.w_rec.cols())},
          {"w_out", matrix_to_json("w_out", w.w_out.data(), w.w_out.rows(), w.w_out.cols())},
          {"b_out", matrix_to_json("b_out", w.b_out.data(), w.b_out.rows(), 1)}}},
        {"config", cp.config},
    };
    if (has_b_rec) root["weights"]["b_rec"] = matrix_to_json("b_rec", w.b_rec.data(), w.b_rec.rows(), 1);
    if (cp.extra.is_object() && !cp.extra.empty()) root["extra"] = cp.extra;
    // The echoed config may hold a command-line string with invalid UTF-8: replaced, not thrown.
    return root.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Checkpoint load_checkpoint(const std::string& path) {
    return checkpoint_from_text(read_input_file(path, kMaxCheckpointBytes, "checkpoint", InputKind::data), path);
}

Checkpoint checkpoint_from_text(const std::string& text, const std::string& path) { return Reader(path).read(text); }

namespace {

// Reading extra.constraint: every error names the field; values are never echoed whole.
[[noreturn]] void bad_extra(const std::string& what) {
    throw std::runtime_error("checkpoint extra.constraint" + what);
}

double finite_number(const nlohmann::json& j, const std::string& where) {
    if (!j.is_number()) bad_extra(where + " must be a number");
    const double v = j.get<double>();
    if (!std::isfinite(v)) bad_extra(where + " must be finite");
    return v;
}

// An integer in [lo, hi], read without any conversion that could overflow.
int bounded_int(const nlohmann::json& j, const std::string& where, int lo, int hi) {
    const std::string range = " (" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
    if (!j.is_number_integer()) bad_extra(where + " must be an integer" + range);
    // nlohmann stores every non-negative integer as unsigned: check both bounds there too.
    const bool out = j.is_number_unsigned()
                         ? j.get<uint64_t>() > static_cast<uint64_t>(hi) || (lo > 0 && j.get<uint64_t>() < static_cast<uint64_t>(lo))
                         : j.get<int64_t>() < lo || j.get<int64_t>() > hi;
    if (out)
        bad_extra(where + " is out of range" + range);
    return static_cast<int>(j.get<int64_t>());
}

GroupQuant group_from_json(const nlohmann::json& g, const ConstraintSpec& spec, const std::string& name) {
    const std::string where = ".groups." + name;
    if (!g.is_object()) bad_extra(where + " missing");
    GroupQuant q;
    q.kind = spec.kind;
    q.weight_bits = spec.weight_bits;
    if (g.contains("scale")) q.scale = finite_number(g.at("scale"), where + ".scale");
    if (g.contains("base")) {
        const auto& b = g.at("base");
        if (!b.is_array() || b.size() != 4) bad_extra(where + ".base must hold 4 numbers");
        for (int i = 0; i < 4; ++i) q.base[i] = finite_number(b[i], where + ".base[" + std::to_string(i) + "]");
    } else if (spec.kind != WeightKind::uniform) {
        bad_extra(where + ".base missing for kind " + to_string(spec.kind));
    }
    return q;
}

}  // namespace

int CheckpointConstraint::layer_of(int j) const {
    for (size_t l = 0; l < layers.size(); ++l)
        if (j >= layers[l].first && j - layers[l].first < layers[l].neurons) return static_cast<int>(l);
    return -1;
}

nlohmann::json constraint_to_extra(const CheckpointConstraint& c) {
    auto group = [](const GroupQuant& q) {
        return nlohmann::json{{"scale", q.scale}, {"base", {q.base[0], q.base[1], q.base[2], q.base[3]}}};
    };
    nlohmann::json groups = {{"hidden", group(c.hidden)}, {"readout", group(c.readout)}};
    if (!c.layers.empty()) {
        groups["layers"] = nlohmann::json::array();
        for (const auto& l : c.layers) {
            nlohmann::json g = group(l.quant);
            g["first"] = l.first;
            g["neurons"] = l.neurons;
            groups["layers"].push_back(g);
        }
    }
    return {{"constraint",
             {{"kind", to_string(c.spec.kind)},
              {"fanin", c.spec.fanin},
              {"weight_bits", c.spec.weight_bits},
              {"groups", groups}}}};
}

CheckpointConstraint constraint_from_extra(const nlohmann::json& extra) {
    if (!extra.is_object() || !extra.contains("constraint"))
        throw std::runtime_error("checkpoint has no extra.constraint: the tile runs networks trained under a constraint");
    const nlohmann::json& c = extra.at("constraint");
    if (!c.is_object()) bad_extra(" must be an object");
    CheckpointConstraint out;
    if (!c.contains("kind") || !c.at("kind").is_string()) bad_extra(".kind must be a string (none, uniform, dynapse1, dynapse2)");
    try {
        out.spec.kind = weight_kind_from_string(c.at("kind").get<std::string>());
    } catch (const std::invalid_argument&) {
        bad_extra(".kind is not one of none, uniform, dynapse1, dynapse2");
    }
    if (c.contains("fanin")) out.spec.fanin = bounded_int(c.at("fanin"), ".fanin", 0, 65536);
    if (c.contains("weight_bits")) out.spec.weight_bits = bounded_int(c.at("weight_bits"), ".weight_bits", 2, 16);
    if (!c.contains("groups") || !c.at("groups").is_object()) bad_extra(".groups must be an object");
    const nlohmann::json& groups = c.at("groups");
    out.hidden = group_from_json(groups.value("hidden", nlohmann::json()), out.spec, "hidden");
    out.readout = group_from_json(groups.value("readout", nlohmann::json()), out.spec, "readout");
    if (groups.contains("layers")) {
        const nlohmann::json& layers = groups.at("layers");
        if (!layers.is_array()) bad_extra(".groups.layers must be an array");
        // Ranges are kept within int arithmetic: first + neurons can never overflow.
        constexpr int kMaxNeurons = static_cast<int>(kMaxInteger);
        int end = 0;
        for (size_t i = 0; i < layers.size(); ++i) {
            const nlohmann::json& g = layers[i];
            const std::string where = ".groups.layers[" + std::to_string(i) + "]";
            CheckpointConstraint::Layer l;
            l.quant = group_from_json(g, out.spec, "layers[" + std::to_string(i) + "]");
            if (!g.contains("first") || !g.contains("neurons")) bad_extra(where + " needs first and neurons");
            l.first = bounded_int(g.at("first"), where + ".first", 0, kMaxNeurons);
            l.neurons = bounded_int(g.at("neurons"), where + ".neurons", 1, kMaxNeurons);
            if (l.first < end)
                bad_extra(".groups.layers: neuron ranges must be ascending and disjoint (layer " + std::to_string(i) +
                          " starts at " + std::to_string(l.first) + ", before " + std::to_string(end) + ")");
            end = l.first + l.neurons;
            out.layers.push_back(l);
        }
    }
    return out;
}

}  // namespace qrsim
