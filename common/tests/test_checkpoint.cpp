#include "common/atomic_file.hpp"
#include "common/checkpoint.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace qrsim;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("qrsim_checkpoint_" + std::to_string(std::random_device{}()));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

Checkpoint make_checkpoint() {
    Checkpoint cp;
    cp.params.n_in = 7;
    cp.params.n_rec = 5;
    cp.params.n_alif = 2;
    cp.params.n_out = 3;
    cp.params.tau_a = 1234.5;
    cp.params.v_th = 0.1 + 0.2;  // not exactly representable: a real round-trip test
    cp.weights.resize_zero(cp.params);
    // Values spanning many exponents, including subnormals and signed zero.
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<int> exponent(-320, 300);
    auto fill = [&](double* data, Eigen::Index n) {
        for (Eigen::Index i = 0; i < n; ++i) data[i] = std::ldexp(normal(rng), exponent(rng) / 10);
    };
    fill(cp.weights.w_in.data(), cp.weights.w_in.size());
    fill(cp.weights.w_rec.data(), cp.weights.w_rec.size());
    fill(cp.weights.w_out.data(), cp.weights.w_out.size());
    fill(cp.weights.b_out.data(), cp.weights.b_out.size());
    fill(cp.weights.b_rec.data(), cp.weights.b_rec.size());
    cp.weights.w_in(0, 0) = std::numeric_limits<double>::denorm_min();
    cp.weights.w_in(0, 1) = -0.0;
    cp.weights.w_in(0, 2) = std::numeric_limits<double>::max();
    cp.config = {{"task", {{"name", "fmnist-rows"}}}, {"train", {{"seed", 7}}}};
    return cp;
}

template <class M>
bool bit_equal(const M& a, const M& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<size_t>(a.size())) == 0;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Loads `text` as a checkpoint and returns the error message ("" if it loaded).
std::string load_error(const TempDir& dir, const std::string& text) {
    const std::string path = dir.file("bad.json");
    write_text(path, text);
    try {
        load_checkpoint(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("checkpoint round trip is exact to the bit", "[checkpoint]") {
    TempDir dir;
    const Checkpoint saved = make_checkpoint();
    const std::string path = dir.file("net.json");
    save_checkpoint(path, saved);
    const Checkpoint loaded = load_checkpoint(path);

    const RsnnParams& a = saved.params;
    const RsnnParams& b = loaded.params;
    CHECK(b.n_in == a.n_in);
    CHECK(b.n_rec == a.n_rec);
    CHECK(b.n_alif == a.n_alif);
    CHECK(b.n_out == a.n_out);
    CHECK(b.refractory == a.refractory);
    for (auto [x, y] : {std::pair{a.tau_m, b.tau_m}, std::pair{a.tau_a, b.tau_a},
                        std::pair{a.tau_out, b.tau_out}, std::pair{a.v_th, b.v_th},
                        std::pair{a.beta, b.beta}, std::pair{a.gamma, b.gamma},
                        std::pair{a.dt, b.dt}})
        CHECK(std::memcmp(&x, &y, sizeof x) == 0);
    CHECK(bit_equal(saved.weights.w_in, loaded.weights.w_in));
    CHECK(bit_equal(saved.weights.w_rec, loaded.weights.w_rec));
    CHECK(bit_equal(saved.weights.w_out, loaded.weights.w_out));
    CHECK(bit_equal(saved.weights.b_out, loaded.weights.b_out));
    CHECK(bit_equal(saved.weights.b_rec, loaded.weights.b_rec));
    CHECK(loaded.config == saved.config);
    CHECK(loaded.extra.empty());
    CHECK(dir.entries() == std::vector<std::string>{"net.json"});

    // A second save of the loaded network gives the same bytes: nothing drifts.
    save_checkpoint(dir.file("again.json"), loaded);
    CHECK(read_text(dir.file("again.json")) == read_text(path));
}

TEST_CASE("checkpoint keeps the extra object for later layers", "[checkpoint]") {
    TempDir dir;
    Checkpoint cp = make_checkpoint();
    cp.extra = {{"constraints", {{"fan_in", 16}, {"weight_bits", 4}}}};
    save_checkpoint(dir.file("net.json"), cp);
    CHECK(load_checkpoint(dir.file("net.json")).extra == cp.extra);
}

TEST_CASE("a network without hidden biases omits b_rec and loads it as zeros", "[checkpoint]") {
    TempDir dir;
    Checkpoint cp = make_checkpoint();
    cp.weights.b_rec.setZero();
    save_checkpoint(dir.file("net.json"), cp);
    CHECK_FALSE(nlohmann::json::parse(read_text(dir.file("net.json")))["weights"].contains("b_rec"));
    const Checkpoint loaded = load_checkpoint(dir.file("net.json"));
    REQUIRE(loaded.weights.b_rec.size() == cp.params.n_rec);
    CHECK(loaded.weights.b_rec.isZero(0.0));
}

TEST_CASE("checkpoint load names the file and the bad field", "[checkpoint]") {
    TempDir dir;
    save_checkpoint(dir.file("good.json"), make_checkpoint());
    const nlohmann::json good = nlohmann::json::parse(read_text(dir.file("good.json")));
    auto with = [&](auto&& edit) {
        nlohmann::json j = good;
        edit(j);
        return load_error(dir, j.dump());
    };
    using Catch::Matchers::Contains;

    CHECK_THAT(load_error(dir, "{\"format\": \"qrsim-rsnn\", "), Contains("bad.json") && Contains("not valid JSON"));
    CHECK_THAT(load_error(dir, ""), Contains("not valid JSON"));
    CHECK_THAT(with([](auto& j) { j["format"] = "something-else"; }), Contains("format"));
    CHECK_THAT(with([](auto& j) { j["version"] = 2; }), Contains("version"));
    CHECK_THAT(with([](auto& j) { j["params"].erase("tau_m"); }), Contains("missing field params.tau_m"));
    CHECK_THAT(with([](auto& j) { j["params"]["n_rec"] = 4.5; }), Contains("params.n_rec must be an integer"));
    CHECK_THAT(with([](auto& j) { j["params"]["n_alif"] = 9; }), Contains("params.n_alif"));
    CHECK_THAT(with([](auto& j) { j["params"]["v_th"] = -1; }), Contains("params.v_th"));
    CHECK_THAT(with([](auto& j) { j["params"]["n_rec"] = 6; }), Contains("weights.w_in is 5x7, expected 6x7"));
    CHECK_THAT(with([](auto& j) { j["weights"]["w_out"]["data"].erase(0); }),
               Contains("weights.w_out.data has 14 values, expected 15"));
    CHECK_THAT(with([](auto& j) { j["weights"]["b_out"]["data"][1] = "x"; }),
               Contains("weights.b_out.data[1] is not a number"));
    CHECK_THAT(with([](auto& j) { j["weights"]["w_rec"]["data"][3] = nullptr; }),
               Contains("weights.w_rec.data[3]"));
    CHECK_THAT(with([](auto& j) { j["weights"].erase("w_rec"); }), Contains("missing field weights.w_rec"));
    CHECK_THAT(with([](auto& j) { j["weights"]["b_rec"]["rows"] = 4; }), Contains("weights.b_rec is 4x1, expected 5x1"));
    CHECK_THAT(with([](auto& j) { j["extra"] = 3; }), Contains("extra must be an object"));
    CHECK_THAT(load_error(dir, "[1, 2]"), Contains("top level is not an object"));

    const std::string missing = dir.file("missing.json");
    CHECK_THROWS_WITH(load_checkpoint(missing), Contains(missing) && Contains("cannot open"));
}

TEST_CASE("checkpoint save refuses bad weights and leaves no file", "[checkpoint]") {
    TempDir dir;
    Checkpoint cp = make_checkpoint();
    cp.weights.w_rec(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(save_checkpoint(dir.file("net.json"), cp),
                      Catch::Matchers::Contains("weights.w_rec") && Catch::Matchers::Contains("non-finite"));
    cp = make_checkpoint();
    cp.weights.w_out.resize(2, 5);
    CHECK_THROWS_WITH(save_checkpoint(dir.file("net.json"), cp), Catch::Matchers::Contains("weights.w_out"));
    CHECK(dir.entries().empty());
}

TEST_CASE("atomic write replaces the file whole and cleans up after a failure", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("report.json");
    write_file_atomically(path, "old");
    write_file_atomically(path, "new contents");
    CHECK(read_text(path) == "new contents");
    CHECK(dir.entries() == std::vector<std::string>{"report.json"});

    // Renaming over a directory fails after the temp file was written: it must be removed.
    fs::create_directory(dir.path / "taken");
    CHECK_THROWS_WITH(write_file_atomically(dir.file("taken"), "x"),
                      Catch::Matchers::Contains(dir.file("taken")) && Catch::Matchers::Contains("rename"));
    CHECK(dir.entries() == std::vector<std::string>{"report.json", "taken"});
    CHECK(fs::is_empty(dir.path / "taken"));

    CHECK_THROWS_WITH(write_file_atomically(dir.file("no/such/dir/x.json"), "x"),
                      Catch::Matchers::Contains("no/such/dir/x.json"));
}

TEST_CASE("a checkpoint claiming huge dimensions is refused before any allocation", "[checkpoint][bad_input]") {
    TempDir dir;
    nlohmann::json j = nlohmann::json::parse(checkpoint_text(make_checkpoint()));
    j["params"]["n_rec"] = 50000;  // 2.5e9 recurrent weights = 20 GB if sized from params
    j["weights"]["w_in"]["rows"] = 50000;
    using Catch::Matchers::Contains;
    CHECK_THAT(load_error(dir, j.dump()), Contains("weights.w_in.data has 35 values, expected 350000"));
    j["params"]["n_rec"] = 20'000'000;  // beyond the bound that keeps n_in + n_rec in an int
    CHECK_THAT(load_error(dir, j.dump()), Contains("params.n_rec = 20000000 is out of range (0..10000000)"));
}

TEST_CASE("deep nesting and huge values give short errors, not a stack overflow", "[checkpoint][bad_input]") {
    TempDir dir;
    using Catch::Matchers::Contains;
    const std::string deep = "{\"format\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK_THAT(load_error(dir, deep), Contains("nested deeper than 32 levels"));
    const std::string long_value = "{\"format\": \"" + std::string(1'000'000, 'x') + "\"}";
    const std::string error = load_error(dir, long_value);
    CHECK_THAT(error, Contains("format is not \"qrsim-rsnn\""));
    CHECK(error.size() < 300);
    CHECK_THAT(load_error(dir, "{\"format\": 1e400}"), Contains("number too large for a double"));
}

TEST_CASE("only regular files are read as checkpoints", "[checkpoint][bad_input]") {
    TempDir dir;
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(load_checkpoint("/dev/zero"), Contains("/dev/zero: is a device, not a regular file"));
    CHECK_THROWS_WITH(load_checkpoint(dir.path.string()), Contains("is a directory"));
    const std::string fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(load_checkpoint(fifo), Contains("is a FIFO"));  // without blocking on it
}

TEST_CASE("extra.constraint layers are bounded so first + neurons cannot overflow", "[checkpoint][bad_input]") {
    nlohmann::json extra = {{"constraint",
                             {{"kind", "uniform"},
                              {"fanin", 8},
                              {"groups", {{"hidden", {{"scale", 0.5}}}, {"readout", {{"scale", 0.5}}}}}}}};
    using Catch::Matchers::Contains;
    extra["constraint"]["groups"]["layers"] = {{{"first", 2147483600}, {"neurons", 100}, {"scale", 0.5}}};
    CHECK_THROWS_WITH(constraint_from_extra(extra), Contains("groups.layers[0].first is out of range"));
    extra["constraint"]["groups"]["layers"] = {{{"first", 0}, {"neurons", "many"}, {"scale", 0.5}}};
    CHECK_THROWS_WITH(constraint_from_extra(extra), Contains("groups.layers[0].neurons must be an integer"));
    extra["constraint"]["groups"]["layers"] = {{{"first", 3}, {"neurons", 2}, {"scale", 0.5}}};
    const CheckpointConstraint c = constraint_from_extra(extra);
    CHECK(c.layer_of(2) == -1);
    CHECK(c.layer_of(4) == 0);
    CHECK(c.layer_of(5) == -1);
}

TEST_CASE("a killed writer's temporary is removed by the next write, a live one's is kept", "[checkpoint][bad_input]") {
    TempDir dir;
    const std::string path = dir.file("r.json");
    const pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    write_text(path + ".tmp." + std::to_string(dead), "partial");
    write_text(path + ".tmp.1", "pid 1 is alive");  // init: never ours to remove
    write_file_atomically(path, "complete");
    CHECK(dir.entries() == std::vector<std::string>{"r.json", "r.json.tmp.1"});
    CHECK(read_text(path) == "complete");
}

// nlohmann stores non-negative integers as unsigned; their lower bound must still hold
// (found by fuzz_checkpoint: weight_bits 0 reached a shift by -1).
TEST_CASE("checkpoint constraint integers below their lower bound are refused", "[checkpoint]") {
    const auto extra = [](const char* key, int value) {
        nlohmann::json c = {{"kind", "uniform"}, {"fanin", 8}, {"weight_bits", 4},
                            {"groups", {{"hidden", {{"scale", 0.125}}}, {"readout", {{"scale", 0.125}}}}}};
        c[key] = value;
        return nlohmann::json{{"constraint", c}};
    };
    CHECK_THROWS_WITH(qrsim::constraint_from_extra(extra("weight_bits", 0)), Catch::Contains("weight_bits is out of range (2..16)"));
    CHECK_THROWS_WITH(qrsim::constraint_from_extra(extra("weight_bits", 1)), Catch::Contains("weight_bits is out of range (2..16)"));
    CHECK_NOTHROW(qrsim::constraint_from_extra(extra("weight_bits", 2)));
}
