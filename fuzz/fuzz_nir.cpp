// NIR files: the HDF5 reader on arbitrary bytes, then the graph -> checkpoint import, as
// `qrsim import-nir` runs them. HDF5 itself is Debian's library, not instrumented: its
// crashes surface, its coverage does not count.
#include "fuzz/fuzz_support.hpp"
#include "nir/nir_file.hpp"
#include "nir/nir_network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::NirGraph graph = qrsim::nir_from_bytes(qrsim::fuzz::text(data, size), "fuzz.nir");
        qrsim::checkpoint_from_nir(graph, {}, "fuzz.nir");
    });
}
