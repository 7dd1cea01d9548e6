// The shipped topologies against the figures their sources give (cited in each file).
#include <string>

#include <catch2/catch.hpp>

#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using testing::ShippedTopology;

PathMatrix GpuMatrix(const Topology& t) {
  return ComputePathMatrix(t, std::vector<NodeId>(t.gpus().begin(), t.gpus().end()));
}

// Two nodes of 8 GPUs: every pair inside a node is `inside` at `inside_GBps`, every pair across is NET at
// `between_GBps` (one GPU's share of the network).
void CheckTwoNodesOfEight(const PathMatrix& m, const std::string& inside, double inside_GBps, double between_GBps) {
  for (size_t i = 0; i < 16; ++i) {
    for (size_t j = 0; j < 16; ++j) {
      if (i == j) continue;
      const bool same_node = (i < 8) == (j < 8);
      CHECK(m.at(i, j).info.ToString() == (same_node ? inside : "NET"));
      CHECK(m.at(i, j).bandwidth_GBps == Approx(same_node ? inside_GBps : between_GBps));
    }
  }
}

TEST_CASE("DGX H100: every GPU pair is NV18 at 450 GB/s per direction") {
  // H100 SXM datasheet: 18 NVLink4 links x 25 GB/s per direction.
  Topology t = ShippedTopology("dgx-h100");
  REQUIRE(t.gpu_count() == 8);
  const PathMatrix m = GpuMatrix(t);
  for (size_t i = 0; i < 8; ++i) {
    for (size_t j = 0; j < 8; ++j) {
      if (i == j) continue;
      CHECK(m.at(i, j).info.ToString() == "NV18");
      CHECK(m.at(i, j).bandwidth_GBps == Approx(450.0));
    }
  }
  // Each GPU has its own NIC behind its PCIe switch (DGX H100 User Guide, Table 6): one nearest NIC, no sharing.
  for (int g = 0; g < 8; ++g) CHECK(t.nearest_nics(t.gpu(g)).size() == 1);
  CHECK_FALSE(t.ShareNic(t.gpu(0), t.gpu(1)));
}

TEST_CASE("DGX H100: GPU-NIC classes match the HGX H100 nvidia-smi matrix") {
  // refdata topology_nvidia_smi_topo_matrices.md item 2: own NIC PIX, same socket NODE, other socket SYS.
  Topology t = ShippedTopology("dgx-h100");
  const PathMatrix m = ComputePathMatrix(t, DefaultDevices(t));
  CHECK(m.at(0, 8).info.ToString() == "PIX");   // GPU0 - NIC0
  CHECK(m.at(0, 9).info.ToString() == "NODE");  // GPU0 - NIC1, socket 0
  CHECK(m.at(0, 12).info.ToString() == "SYS");  // GPU0 - NIC4, socket 1
  CHECK(m.at(7, 15).info.ToString() == "PIX");
}

TEST_CASE("8x L40S: no NVLink, same-socket and cross-socket pairs told apart") {
  Topology t = ShippedTopology("pcie-8x-l40s");
  const PathMatrix m = GpuMatrix(t);
  for (size_t i = 0; i < 8; ++i) {
    for (size_t j = 0; j < 8; ++j) {
      if (i == j) continue;
      const std::string c = m.at(i, j).info.ToString();
      CHECK(c.rfind("NV", 0) == std::string::npos);
      const bool same_socket = (i < 4) == (j < 4);
      if (same_socket) {
        CHECK((c == "PIX" || c == "NODE"));
      } else {
        CHECK(c == "SYS");
      }
    }
  }
  CHECK(m.at(0, 1).info.ToString() == "PIX");  // one switch
  CHECK(m.at(0, 2).info.ToString() == "NODE");
  // L40S datasheet: Gen4 x16, 32 GB/s per direction; across sockets the UPI link (NCCL SRP_QPI_BW, 22 GB/s).
  CHECK(m.at(0, 1).bandwidth_GBps == Approx(32.0));
  CHECK(m.at(0, 4).bandwidth_GBps == Approx(22.0));
  CHECK(t.NvlinkDomains().size() == 8);
}

TEST_CASE("Two DGX H100 nodes: cross-node pairs are NET at 50 GB/s per NIC") {
  Topology t = ShippedTopology("dgx-h100-2node");
  REQUIRE(t.gpu_count() == 16);
  const PathMatrix m = GpuMatrix(t);
  CheckTwoNodesOfEight(m, "NV18", 450.0, 50.0);  // NDR 400 Gb/s
  // Rails: GPU i of every node sits on rail i; GPU i of node0 and GPU i of node1 meet at one leaf (the shortest
  // NET route, 2.7 us: 4 PCIe hops + 2 network hops); GPU i to GPU j != i crosses a spine (2 more hops).
  CHECK(t.rail(t.gpu(3)) == 3);
  CHECK(t.rail(t.gpu(11)) == 3);
  CHECK(t.SameRail(t.gpu(3), t.gpu(11)));
  CHECK(m.at(3, 11).latency == Time::Nanoseconds(2700));
  CHECK(m.at(3, 12).latency == Time::Nanoseconds(3400));
  CHECK(m.at(3, 11).hops == 6);
  CHECK(m.at(3, 12).hops == 8);
}

TEST_CASE("Two OCI BM.GPU4.8 nodes: NV12 inside, 25 GB/s per GPU between") {
  Topology t = ShippedTopology("oci-bm-gpu4-2node");
  REQUIRE(t.gpu_count() == 16);
  CHECK(t.node(t.gpu(0)).spec.model == "a100-sxm-40gb");
  // 12 NVLink3 links x 25 GB/s; between nodes two 100 Gb/s ports per GPU (BM.GPU4.8.xml: speed="100000" x 2).
  CheckTwoNodesOfEight(GpuMatrix(t), "NV12", 300.0, 25.0);
}

TEST_CASE("128-node cluster: 1,024 GPUs, 8 rails of 4 leaves, 16 spines") {
  // Rail-optimised, 64-port switches, 32 node ports per leaf: 128 nodes / 32 = 4 leaves per rail, 8 rails = 32
  // leaves; each leaf has 32 uplinks (non-blocking), 32 x 32 / 64 ports = 16 spines, 2 links per leaf-spine pair.
  Topology t = ShippedTopology("dgx-h100-128node");
  CHECK(t.gpu_count() == 1024);
  CHECK(t.hosts().size() == 128);
  int leaves = 0, spines = 0;
  for (NodeId i = 0; i < t.node_count(); ++i) {
    const std::string& name = t.node(i).spec.name;
    if (t.node(i).spec.kind != NodeKind::kSwitch) continue;
    if (name.find("leaf") != std::string::npos) ++leaves;
    if (name.find("spine") != std::string::npos) {
      ++spines;
      int up = 0;
      for (LinkId l : t.out_links(i)) up += t.link(l).count;
      CHECK(up == 32 * 2);  // every one of the 32 leaves, 2 links each
    }
  }
  CHECK(leaves == 32);
  CHECK(spines == 16);
}

TEST_CASE("2:1 oversubscribed fabric: half the uplinks, half the spines") {
  // 32 node ports per leaf, 16 uplinks: 32 x 16 / 64 = 8 spines.
  Topology t = ShippedTopology("dgx-h100-128node-oversub");
  int spines = 0;
  for (NodeId i = 0; i < t.node_count(); ++i)
    if (t.node(i).spec.name.find("spine") != std::string::npos) ++spines;
  CHECK(spines == 8);
}

TEST_CASE("4 nodes, 2:1 oversubscribed: each rail's leaf has 4 NIC ports below and 2 uplinks") {
  // ceil(4 node ports / 2) = 2 uplinks per leaf, 8 leaves (one per rail): 16 uplinks, one 64-port spine.
  Topology t = ShippedTopology("dgx-h100-4node-oversub");
  REQUIRE(t.gpu_count() == 32);
  int leaves = 0, spines = 0, up = 0;
  for (NodeId i = 0; i < t.node_count(); ++i) {
    const std::string& name = t.node(i).spec.name;
    if (name.find("leaf") != std::string::npos) ++leaves;
    if (name.find("spine") == std::string::npos) continue;
    ++spines;
    for (LinkId l : t.out_links(i)) up += t.link(l).count;
  }
  CHECK(leaves == 8);
  CHECK(spines == 1);
  CHECK(up == 8 * 2);
}

TEST_CASE("Two NVLink islands of 4 joined by PCIe") {
  // Inside an island: 4 NVLink3 links x 25 GB/s = 100 GB/s; across: PCIe Gen4 x16 (31.5 GB/s).
  Topology t = ShippedTopology("a100-2x4-nvlink-islands");
  const PathMatrix m = GpuMatrix(t);
  CHECK(m.at(0, 3).info.ToString() == "NV4");
  CHECK(m.at(0, 3).bandwidth_GBps == Approx(100.0));
  CHECK(m.at(0, 4).info.ToString() == "NODE");
  CHECK(m.at(0, 4).bandwidth_GBps == Approx(31.5));
  CHECK(t.NvlinkDomains().size() == 2);
  CHECK(t.SameNvlinkDomain(t.gpu(1), t.gpu(2)));
  CHECK_FALSE(t.SameNvlinkDomain(t.gpu(3), t.gpu(4)));
}

TEST_CASE("GB200 NVL72: 72 GPUs in one NVLink domain at 900 GB/s") {
  // 18 NVLink5 links per GPU, one to each switch chip, 50 GB/s per direction each.
  Topology t = ShippedTopology("gb200-nvl72");
  CHECK(t.gpu_count() == 72);
  CHECK(t.NvlinkDomains().size() == 1);
  const PathMatrix m = GpuMatrix(t);
  for (size_t j = 1; j < 72; ++j) {
    CHECK(m.at(0, j).info.ToString() == "NV18");
    CHECK(m.at(0, j).bandwidth_GBps == Approx(900.0));
  }
}

TEST_CASE("DGX B200: every GPU pair is NV18 at 900 GB/s per direction over two switch chips") {
  // Blackwell datasheet: 18 NVLink5 links x 50 GB/s per direction; DGX B200 User Guide: 2 NVLink switches, 14.4 TB/s
  // aggregate = 8 GPUs x 18 links x 50 GB/s x 2 directions.
  Topology t = ShippedTopology("dgx-b200");
  REQUIRE(t.gpu_count() == 8);
  CHECK(t.node(t.gpu(3)).spec.model == "b200");
  const PathMatrix m = GpuMatrix(t);
  for (size_t j = 1; j < 8; ++j) {
    CHECK(m.at(0, j).info.ToString() == "NV18");
    CHECK(m.at(0, j).bandwidth_GBps == Approx(900.0));
  }
  double aggregate = 0;
  for (LinkId id = 0; id < t.link_count(); ++id) {
    if (t.link(id).kind == LinkKind::kNvLink) aggregate += t.link(id).capacity_GBps;
  }
  CHECK(aggregate == Approx(14400.0));  // both directions of every link
  for (int g = 0; g < 8; ++g) CHECK(t.nearest_nics(t.gpu(g)).size() == 1);
}

TEST_CASE("Two DGX B200 nodes: NV18 at 900 GB/s inside, NET at 50 GB/s per NIC between") {
  Topology t = ShippedTopology("dgx-b200-2node");
  REQUIRE(t.gpu_count() == 16);
  CHECK(t.node(t.gpu(9)).spec.model == "b200");
  // 18 NVLink5 links x 50 GB/s inside a node (B200 datasheet); one ConnectX-7 NDR port per GPU between nodes.
  CheckTwoNodesOfEight(GpuMatrix(t), "NV18", 900.0, 50.0);
  // GPU i of each node on rail i, as on the DGX H100 pair.
  CHECK(t.SameRail(t.gpu(5), t.gpu(13)));
  CHECK(!t.SameRail(t.gpu(5), t.gpu(12)));
}

TEST_CASE("The other shipped machines") {
  const PathMatrix a100 = GpuMatrix(ShippedTopology("dgx-a100"));
  CHECK(a100.at(0, 7).info.ToString() == "NV12");
  CHECK(a100.at(0, 7).bandwidth_GBps == Approx(300.0));  // 12 x 25 (A100 datasheet)
  Topology h200 = ShippedTopology("hgx-h200");
  CHECK(h200.node(h200.gpu(5)).spec.model == "h200-sxm");
  CHECK(GpuMatrix(h200).at(0, 1).bandwidth_GBps == Approx(450.0));
  const PathMatrix ws = GpuMatrix(ShippedTopology("workstation-2x-a6000-nvlink"));
  CHECK(ws.at(0, 1).info.ToString() == "NV4");
  CHECK(ws.at(0, 1).bandwidth_GBps == Approx(56.25));  // 112.5 GB/s bidirectional (A6000 datasheet)
  for (const char* name : {"dgx-h100-4node", "dgx-h100-16node"}) {
    Topology c = ShippedTopology(name);
    CHECK(c.gpu_count() % 8 == 0);
  }
}

}  // namespace
}  // namespace wiresim
