// The fan-in tables refuse every write that breaks the spec, with one line naming the
// neuron, K, the code and the allowed range; the inverted index follows the writes.
#include "hw_models/fanin_table.hpp"

#include <catch2/catch.hpp>

using namespace qrsim;
using Catch::Matchers::Contains;

TEST_CASE("CAM refuses bad dynapse2 writes", "[cam]") {
    FaninTable cam(fw::EntryLayout{fw::code_dynapse2, 4, 11}, 8, 4, 8, 100);
    CHECK_NOTHROW(cam.write(2, 0, 2047, -15));
    CHECK(cam.code(2, 0) == -15);
    CHECK(cam.address(2, 0) == 2047);
    CHECK_THROWS_WITH(cam.write(2, 1, 5, 16), Contains("neuron 102 (K=4)") && Contains("code 16 outside [-15, 15]"));
    CHECK_THROWS_WITH(cam.write(2, 1, 5, 0), Contains("code 0 outside") && Contains("mask 1..15"));
    CHECK_THROWS_WITH(cam.write(2, 1, 2048, 1), Contains("address 2048 outside [0, 2047] (11-bit tags)"));
    CHECK_THROWS_WITH(cam.write(2, 4, 5, 1), Contains("entry 4 outside [0, 3]"));
    for (int i = 0; i < 3; ++i) cam.append(2, 10 + i, 1);
    CHECK(cam.used(2) == 4);
    CHECK_THROWS_WITH(cam.append(2, 20, 3), Contains("neuron 102 (K=4): all K=4 entries in use"));
    // A refused write leaves the table as it was.
    CHECK(cam.address(2, 1) == 10);
}

TEST_CASE("CAM refuses bad uniform codes and builds the inverted index", "[cam]") {
    FaninTable cam(fw::EntryLayout{fw::code_uniform, 4, 8}, 6, 3, 3, 0);
    CHECK_THROWS_WITH(cam.write(0, 0, 1, -8), Contains("code -8 outside [-7, 7] for uniform 4-bit"));
    CHECK_THROWS_WITH(cam.write(0, 0, 1, 8), Contains("code 8 outside [-7, 7]"));
    cam.set_lut_stride(15);
    cam.set_group(5, 1);
    cam.write(0, 0, 1, 7);
    cam.write(4, 2, 1, -7);
    cam.write(5, 0, 1, 1);
    cam.write(5, 1, 0, 2);
    cam.build_index(3);
    CHECK_FALSE(cam.dirty());
    const uint32_t* off = cam.offsets();
    REQUIRE(off[2] - off[1] == 3);  // address 1 reaches slots 0, 4, 5
    CHECK(cam.targets()[off[1]].slot == 0);
    CHECK(cam.targets()[off[1]].lut == 14);      // code 7 + 7
    CHECK(cam.targets()[off[1] + 1].lut == 0);   // code -7 + 7
    CHECK(cam.targets()[off[1] + 2].lut == 15 + 8);  // readout group: offset 15, code 1 + 7
    // Address 1 is searched in core 0 (slot 0) and core 1 (slots 4, 5): one search per core,
    // one SOP in core 0 and two in core 1; address 0 only in core 1 (slot 5).
    CHECK(cam.cam_cost()[1] == 2);
    CHECK(cam.cam_cost()[0] == 1);
    CHECK(cam.cam_cost()[2] == 0);
    REQUIRE(cam.cores() == 2);
    CHECK(cam.core_sops()[1 * 2 + 0] == 1);
    CHECK(cam.core_sops()[1 * 2 + 1] == 2);
    CHECK(cam.core_sops()[0 * 2 + 0] == 0);
    CHECK(cam.core_sops()[0 * 2 + 1] == 1);
    cam.clear(4, 2);
    CHECK(cam.dirty());
    cam.build_index(3);
    CHECK(cam.offsets()[2] - cam.offsets()[1] == 2);
}
