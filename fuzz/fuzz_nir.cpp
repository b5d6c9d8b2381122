// NIR files: the HDF5 reader on arbitrary bytes, then the graph -> checkpoint import, as
// `qrsim import-nir` runs them. HDF5 itself is Debian's library, not instrumented; it reads
// in a child process (nir_file.cpp), so its crashes and hangs become the documented error,
// and the graph import, our code, runs in the fuzzer's process.
#include "fuzz/fuzz_support.hpp"
#include "nir/nir_file.hpp"
#include "nir/nir_network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::NirGraph graph = qrsim::nir_from_bytes(qrsim::fuzz::text(data, size), "fuzz.nir", 3);  // within libFuzzer's 10 s
        qrsim::checkpoint_from_nir(graph, {}, "fuzz.nir");
    });
}
