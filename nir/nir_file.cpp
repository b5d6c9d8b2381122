#include "nir/nir_file.hpp"

#include "common/atomic_file.hpp"
#include "common/bounded_input.hpp"

#include <H5Cpp.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

namespace qrsim {

namespace {

// Bounds on what a file may ask for, generous for any network the tile can hold.
constexpr size_t kMaxValues = size_t{64} << 20;  // numbers in the whole file (512 MB as doubles)
constexpr size_t kMaxNodes = 10000;
constexpr size_t kMaxEdges = 100000;
constexpr size_t kMaxTextBytes = size_t{1} << 20;  // one string (a metadata JSON text)
constexpr size_t kMaxNameBytes = 256;
constexpr int kMaxRank = 8;

// HDF5 prints its error stack to stderr by default; errors here are one line of ours.
void silence_hdf5() {
    static const bool silenced = [] {
        H5::Exception::dontPrint();
        return true;
    }();
    (void)silenced;
}

// HDF5's signature: at byte 0, or at 512, 1024, 2048, ... after a user block.
bool has_hdf5_signature(const std::string& bytes) {
    static const char kSignature[] = "\x89HDF\r\n\x1a\n";
    for (size_t offset = 0; offset + 8 <= bytes.size(); offset = offset == 0 ? 512 : offset * 2)
        if (std::memcmp(bytes.data() + offset, kSignature, 8) == 0) return true;
    return false;
}

class Reader {
public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& message) const {
        throw std::runtime_error("NIR file " + origin_ + ": " + message);
    }

    NirGraph read(const H5::H5File& file) {
        NirGraph graph;
        if (!file.nameExists("version")) fail("missing /version (not a NIR file)");
        graph.version = text(file.openDataSet("version"), "/version");
        if (!file.nameExists("node") || file.childObjType("node") != H5O_TYPE_GROUP)
            fail("missing group /node (not a NIR graph)");
        const H5::Group node = file.openGroup("node");
        const std::string type = node_type(node, "/node");
        if (type != "NIRGraph") fail("/node/type is '" + type + "', expected NIRGraph");
        if (!node.nameExists("nodes") || node.childObjType("nodes") != H5O_TYPE_GROUP)
            fail("missing group /node/nodes");
        const H5::Group nodes = node.openGroup("nodes");
        if (nodes.getNumObjs() > kMaxNodes)
            fail("/node/nodes holds " + std::to_string(nodes.getNumObjs()) + " nodes, at most " +
                 std::to_string(kMaxNodes) + " are read");
        for (hsize_t i = 0; i < nodes.getNumObjs(); ++i) {
            const std::string name = nodes.getObjnameByIdx(i);
            const std::string where = "/node/nodes/" + name;
            if (name.size() > kMaxNameBytes) fail("a node name is longer than " + std::to_string(kMaxNameBytes) + " bytes");
            if (nodes.childObjType(name) != H5O_TYPE_GROUP) fail(where + " is not a group");
            graph.nodes[name] = read_node(nodes.openGroup(name), where);
        }
        if (!node.nameExists("edges") || node.childObjType("edges") != H5O_TYPE_DATASET)
            fail("missing dataset /node/edges");
        graph.edges = edges(node.openDataSet("edges"));
        if (node.nameExists("metadata") && node.childObjType("metadata") == H5O_TYPE_GROUP)
            graph.metadata = metadata(node.openGroup("metadata"), "/node/metadata");
        return graph;
    }

private:
    std::string node_type(const H5::Group& g, const std::string& where) const {
        if (!g.nameExists("type") || g.childObjType("type") != H5O_TYPE_DATASET) fail(where + " has no type");
        return text(g.openDataSet("type"), where + "/type");
    }

    NirNode read_node(const H5::Group& g, const std::string& where) {
        NirNode n;
        n.type = node_type(g, where);
        if (n.type == "NIRGraph")
            fail(where + " is a subgraph (NIRGraph inside the graph): qrsim reads flat graphs only");
        for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
            const std::string key = g.getObjnameByIdx(i);
            const H5O_type_t kind = g.childObjType(key);
            if (key == "metadata" && kind == H5O_TYPE_GROUP) n.metadata = metadata(g.openGroup(key), where + "/metadata");
            if (key == "type" || kind != H5O_TYPE_DATASET) continue;
            const H5::DataSet ds = g.openDataSet(key);
            if (is_numeric(ds)) n.params[key] = numbers(ds, where + "/" + key);
        }
        return n;
    }

    NirMetadata metadata(const H5::Group& g, const std::string& where) {
        NirMetadata m;
        for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
            const std::string key = g.getObjnameByIdx(i);
            if (g.childObjType(key) != H5O_TYPE_DATASET) continue;
            const H5::DataSet ds = g.openDataSet(key);
            if (is_numeric(ds)) m.numbers[key] = numbers(ds, where + "/" + key);
            else if (ds.getTypeClass() == H5T_STRING) m.texts[key] = text(ds, where + "/" + key);
        }
        return m;
    }

    static bool is_numeric(const H5::DataSet& ds) {
        const H5T_class_t c = ds.getTypeClass();
        return c == H5T_INTEGER || c == H5T_FLOAT;
    }

    // The extent of a dataset, its element count bounded against overflow and the budget.
    std::vector<hsize_t> extent(const H5::DataSet& ds, const std::string& where, size_t& count) const {
        const H5::DataSpace space = ds.getSpace();
        const H5S_class_t cls = space.getSimpleExtentType();
        if (cls == H5S_NULL) fail(where + " is empty (a null dataspace)");
        const int rank = space.getSimpleExtentNdims();
        if (rank < 0 || rank > kMaxRank) fail(where + " has rank " + std::to_string(rank) + ", at most " + std::to_string(kMaxRank));
        std::vector<hsize_t> dims(static_cast<size_t>(rank));
        if (rank > 0) space.getSimpleExtentDims(dims.data());
        count = 1;
        for (hsize_t d : dims) {
            if (d != 0 && count > kMaxValues / d) fail(where + " holds more than " + std::to_string(kMaxValues) + " values");
            count *= static_cast<size_t>(d);
        }
        return dims;
    }

    NirArray numbers(const H5::DataSet& ds, const std::string& where) {
        size_t count = 0;
        const std::vector<hsize_t> dims = extent(ds, where, count);
        if (count > kMaxValues - values_read_)
            fail("the arrays hold more than " + std::to_string(kMaxValues) + " values in all (at " + where + ")");
        values_read_ += count;
        NirArray a;
        a.integer = ds.getTypeClass() == H5T_INTEGER;
        for (hsize_t d : dims) a.shape.push_back(static_cast<int64_t>(d));
        a.values.resize(count);
        if (count > 0) ds.read(a.values.data(), H5::PredType::NATIVE_DOUBLE);
        for (size_t i = 0; i < count; ++i)
            if (!std::isfinite(a.values[i])) fail(where + "[" + std::to_string(i) + "] is not finite (NaN or inf)");
        return a;
    }

    // The strings of a string dataset (fixed-length or variable-length, as h5py writes them).
    std::vector<std::string> strings(const H5::DataSet& ds, const std::string& where, size_t max_count,
                                     std::vector<hsize_t>& dims) const {
        if (ds.getTypeClass() != H5T_STRING) fail(where + " is not a string");
        size_t count = 0;
        dims = extent(ds, where, count);
        if (count > max_count) fail(where + " holds " + std::to_string(count) + " strings, at most " + std::to_string(max_count));
        const H5::StrType type = ds.getStrType();
        std::vector<std::string> out;
        out.reserve(count);
        if (count == 0) return out;
        if (type.isVariableStr()) {
            std::vector<char*> buffer(count, nullptr);
            ds.read(buffer.data(), type);
            for (char* s : buffer) out.emplace_back(s ? s : "", s ? strnlen(s, kMaxTextBytes + 1) : 0);
            H5::DataSet::vlenReclaim(buffer.data(), type, ds.getSpace());
        } else {
            const size_t width = type.getSize();
            if (width == 0 || width > kMaxTextBytes || count > kMaxValues / width) fail(where + " has strings too long to read");
            std::vector<char> buffer(count * width);
            ds.read(buffer.data(), type);
            for (size_t i = 0; i < count; ++i) out.emplace_back(buffer.data() + i * width, strnlen(buffer.data() + i * width, width));
        }
        for (const std::string& s : out)
            if (s.size() > kMaxTextBytes) fail(where + " holds a string longer than " + std::to_string(kMaxTextBytes) + " bytes");
        return out;
    }

    std::string text(const H5::DataSet& ds, const std::string& where) const {
        std::vector<hsize_t> dims;
        std::vector<std::string> all = strings(ds, where, 1, dims);
        if (all.size() != 1) fail(where + " must hold one string");
        return all[0];
    }

    std::vector<std::pair<std::string, std::string>> edges(const H5::DataSet& ds) const {
        const std::string where = "/node/edges";
        std::vector<std::pair<std::string, std::string>> out;
        // A graph without edges: h5py writes an empty float array.
        if (ds.getTypeClass() != H5T_STRING) {
            size_t count = 0;
            extent(ds, where, count);
            if (count == 0) return out;
            fail(where + " must hold pairs of node names (strings)");
        }
        std::vector<hsize_t> dims;
        const std::vector<std::string> names = strings(ds, where, 2 * kMaxEdges, dims);
        if (names.empty()) return out;
        if (dims.size() != 2 || dims[1] != 2) fail(where + " must be an n x 2 array of node names");
        for (size_t i = 0; i < names.size(); i += 2) out.emplace_back(names[i], names[i + 1]);
        return out;
    }

    std::string origin_;
    size_t values_read_ = 0;
};

// Writing: every node a group, every parameter a dataset of its own shape.
class Writer {
public:
    explicit Writer(H5::H5File& file) : file_(file) {}

    void write(const NirGraph& graph) {
        write_text(file_, "version", graph.version.empty() ? kNirVersion : graph.version);
        H5::Group node = file_.createGroup("node");
        write_text(node, "type", "NIRGraph");
        H5::Group nodes = node.createGroup("nodes");
        for (const auto& [name, n] : graph.nodes) {
            if (name.empty() || name.find('/') != std::string::npos || name == "." )
                throw std::runtime_error("cannot write NIR node '" + name + "': a node name may not be empty or hold '/'");
            H5::Group g = nodes.createGroup(name);
            write_text(g, "type", n.type);
            for (const auto& [key, array] : n.params) write_numbers(g, key, array);
            write_metadata(g, n.metadata);
        }
        write_edges(node, graph.edges);
        write_metadata(node, graph.metadata);
    }

private:
    static H5::StrType text_type() {
        H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
        type.setCset(H5T_CSET_UTF8);
        return type;
    }

    static void write_text(H5::Group& g, const std::string& key, const std::string& value) {
        const H5::StrType type = text_type();
        H5::DataSet ds = g.createDataSet(key, type, H5::DataSpace(H5S_SCALAR));
        ds.write(value, type);
    }
    static void write_text(H5::H5File& f, const std::string& key, const std::string& value) {
        const H5::StrType type = text_type();
        H5::DataSet ds = f.createDataSet(key, type, H5::DataSpace(H5S_SCALAR));
        ds.write(value, type);
    }

    static void write_numbers(H5::Group& g, const std::string& key, const NirArray& a) {
        std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
        const H5::DataSpace space = dims.empty() ? H5::DataSpace(H5S_SCALAR)
                                                 : H5::DataSpace(static_cast<int>(dims.size()), dims.data());
        if (a.integer) {
            std::vector<int64_t> v(a.values.begin(), a.values.end());
            H5::DataSet ds = g.createDataSet(key, H5::PredType::STD_I64LE, space);
            if (!v.empty()) ds.write(v.data(), H5::PredType::NATIVE_INT64);
        } else {
            H5::DataSet ds = g.createDataSet(key, H5::PredType::IEEE_F64LE, space);
            if (!a.values.empty()) ds.write(a.values.data(), H5::PredType::NATIVE_DOUBLE);
        }
    }

    static void write_edges(H5::Group& g, const std::vector<std::pair<std::string, std::string>>& edges) {
        const H5::StrType type = text_type();
        const hsize_t dims[2] = {edges.size(), 2};
        H5::DataSet ds = g.createDataSet("edges", type, H5::DataSpace(2, dims));
        std::vector<const char*> names;
        for (const auto& [from, to] : edges) {
            names.push_back(from.c_str());
            names.push_back(to.c_str());
        }
        if (!names.empty()) ds.write(names.data(), type);
    }

    static void write_metadata(H5::Group& g, const NirMetadata& m) {
        if (m.numbers.empty() && m.texts.empty()) return;
        H5::Group meta = g.createGroup("metadata");
        for (const auto& [key, array] : m.numbers) write_numbers(meta, key, array);
        for (const auto& [key, text] : m.texts) write_text(meta, key, text);
    }

    H5::H5File& file_;
};

}  // namespace

namespace {

NirGraph parse_in_this_process(const std::string& bytes, const std::string& origin) {
    silence_hdf5();
    try {
        // The bytes are opened as an in-memory file image: HDF5 never reads the path itself,
        // so the bounded read of the file is the only one.
        H5::FileAccPropList access;
        access.setCore(size_t{1} << 16, false);
        if (H5Pset_file_image(access.getId(), const_cast<char*>(bytes.data()), bytes.size()) < 0)
            throw std::runtime_error("NIR file " + origin + ": cannot hand the file to HDF5");
        H5::H5File file("nir-image", H5F_ACC_RDONLY, H5::FileCreatPropList::DEFAULT, access);
        return Reader(origin).read(file);
    } catch (const H5::Exception& e) {
        throw std::runtime_error("NIR file " + origin + ": HDF5 cannot read it (" + e.getFuncName() +
                                 "): a damaged file or a layout qrsim does not read");
    }
}

// The graph between the reading child and its parent: length-prefixed strings and raw
// doubles, so every value crosses bit for bit.
class Encoder {
public:
    void u64(uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void str(const std::string& s) { u64(s.size()), out += s; }
    void array(const NirArray& a) {
        u64(a.integer);
        u64(a.shape.size());
        for (int64_t d : a.shape) u64(static_cast<uint64_t>(d));
        u64(a.values.size());
        out.append(reinterpret_cast<const char*>(a.values.data()), a.values.size() * sizeof(double));
    }
    void metadata(const NirMetadata& m) {
        u64(m.numbers.size());
        for (const auto& [k, a] : m.numbers) str(k), array(a);
        u64(m.texts.size());
        for (const auto& [k, t] : m.texts) str(k), str(t);
    }
    void graph(const NirGraph& g) {
        str(g.version);
        u64(g.nodes.size());
        for (const auto& [name, n] : g.nodes) {
            str(name), str(n.type);
            u64(n.params.size());
            for (const auto& [k, a] : n.params) str(k), array(a);
            metadata(n.metadata);
        }
        u64(g.edges.size());
        for (const auto& [a, b] : g.edges) str(a), str(b);
        metadata(g.metadata);
    }
    std::string out;
};

class Decoder {
public:
    explicit Decoder(const std::string& in) : in_(in) {}
    uint64_t u64() {
        need(sizeof(uint64_t));
        uint64_t v;
        std::memcpy(&v, in_.data() + at_, sizeof v);
        at_ += sizeof v;
        return v;
    }
    std::string str() {
        const uint64_t n = u64();
        need(n);
        std::string s = in_.substr(at_, n);
        at_ += n;
        return s;
    }
    NirArray array() {
        NirArray a;
        a.integer = u64() != 0;
        for (uint64_t r = u64(); r > 0; --r) a.shape.push_back(static_cast<int64_t>(u64()));
        const uint64_t n = u64();
        if (n > (in_.size() - at_) / sizeof(double)) bad();
        a.values.resize(n);
        std::memcpy(a.values.data(), in_.data() + at_, n * sizeof(double));
        at_ += n * sizeof(double);
        return a;
    }
    NirMetadata metadata() {
        NirMetadata m;
        for (uint64_t n = u64(); n > 0; --n) {
            std::string k = str();
            m.numbers[k] = array();
        }
        for (uint64_t n = u64(); n > 0; --n) {
            std::string k = str();
            m.texts[k] = str();
        }
        return m;
    }
    NirGraph graph() {
        NirGraph g;
        g.version = str();
        for (uint64_t n = u64(); n > 0; --n) {
            const std::string name = str();
            NirNode& node = g.nodes[name];
            node.type = str();
            for (uint64_t p = u64(); p > 0; --p) {
                std::string k = str();
                node.params[k] = array();
            }
            node.metadata = metadata();
        }
        for (uint64_t n = u64(); n > 0; --n) {
            std::string a = str();
            g.edges.emplace_back(a, str());
        }
        g.metadata = metadata();
        return g;
    }

private:
    void need(uint64_t n) const {
        if (n > in_.size() - at_) bad();
    }
    [[noreturn]] static void bad() { throw std::runtime_error("NIR reader: the reading process returned a short graph"); }
    const std::string& in_;
    size_t at_ = 0;
};

void write_all(int fd, const std::string& data) {
    for (size_t done = 0; done < data.size();) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

}  // namespace

// HDF5 1.10 is not hardened against damaged files: the mutation test found files whose
// corrupted heap makes it read out of bounds and crash. The file is therefore parsed in a
// child process, which hands the graph back through a pipe; a crash there becomes one
// error line. (fork() in a single-threaded caller, as qrsim is while it reads its inputs.)
NirGraph nir_from_bytes(const std::string& bytes, const std::string& origin, unsigned seconds) {
    if (!has_hdf5_signature(bytes)) throw std::runtime_error("NIR file " + origin + ": not an HDF5 file (no HDF5 signature)");
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("NIR file " + origin + ": cannot start its reader (pipe failed)");
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]), ::close(fds[1]);
        throw std::runtime_error("NIR file " + origin + ": cannot start its reader (fork failed)");
    }
    if (pid == 0) {
        // A crash must end this process, not run the parent's handlers (a test framework's).
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) std::signal(sig, SIG_DFL);
        // Damaged files can also make HDF5 loop forever; a real file reads in about a second.
        ::alarm(seconds);
        ::close(fds[0]);
        std::string message;
        try {
            Encoder e;
            e.graph(parse_in_this_process(bytes, origin));
            message = "G" + e.out;
        } catch (const std::bad_alloc&) {
            message = "E" + std::string("NIR file ") + origin + ": out of memory reading it";
        } catch (const std::exception& e) {
            message = "E" + std::string(e.what());
        }
        write_all(fds[1], message);
        ::close(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string reply;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reply.append(buffer, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        throw std::runtime_error("NIR file " + origin + ": HDF5 did not finish reading it in " + std::to_string(seconds) +
                                 " s: a damaged file");
    if (WIFSIGNALED(status))
        throw std::runtime_error("NIR file " + origin + ": HDF5 crashed reading it (signal " + std::to_string(WTERMSIG(status)) +
                                 "): a damaged file");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty())
        throw std::runtime_error("NIR file " + origin + ": its reader stopped without an answer");
    if (reply[0] == 'E') throw std::runtime_error(reply.substr(1));
    const std::string graph = reply.substr(1);
    return Decoder(graph).graph();
}

NirGraph read_nir_file(const std::string& path) {
    return nir_from_bytes(read_input_file(path, kMaxCheckpointBytes, "NIR file", InputKind::data), path);
}

std::string nir_to_bytes(const NirGraph& graph) {
    silence_hdf5();
    try {
        H5::FileAccPropList access;
        access.setCore(size_t{1} << 20, false);  // in memory only: no backing file
        H5::H5File file("nir-export", H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
        Writer(file).write(graph);
        file.flush(H5F_SCOPE_GLOBAL);
        const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
        if (size <= 0) throw std::runtime_error("cannot build the NIR file: HDF5 gave no file image");
        std::string bytes(static_cast<size_t>(size), '\0');
        if (H5Fget_file_image(file.getId(), bytes.data(), bytes.size()) != size)
            throw std::runtime_error("cannot build the NIR file: HDF5 gave a short file image");
        return bytes;
    } catch (const H5::Exception& e) {
        throw std::runtime_error("cannot build the NIR file: HDF5 failed in " + e.getFuncName());
    }
}

void write_nir_file(const std::string& path, const NirGraph& graph) { write_file_atomically(path, nir_to_bytes(graph)); }

}  // namespace qrsim
