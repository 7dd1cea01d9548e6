// Importers: each fixture (written in the format of `nvidia-smi topo -m` or NCCL's topology XML) must come back as a
// topology that shows the fixture's own matrix, with the datasheet line rates of the link presets (as the shipped
// topologies).
#include "sim/topology/importers.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "sim/topology/link_presets.h"
#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"
#include "tests/testing/memory_reader.h"

namespace wiresim {
namespace {

SourceFile Fixture(const std::string& name) { return testing::ReadSourceFile("tests/data/topology/" + name); }

// The class matrix written in an nvidia-smi fixture: the rows after the header, one token per column.
std::vector<std::vector<std::string>> MatrixOf(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::vector<std::string>> rows;
  size_t columns = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::string> t;
    for (std::string tok; ls >> tok;) t.push_back(tok);
    if (t.empty() || t[0] == "#") continue;
    const auto gpu0 = std::find(t.begin(), t.end(), "GPU0");
    if (gpu0 != t.end() && columns == 0) {  // the header (possibly after an ANSI escape token)
      for (auto it = gpu0; it != t.end() && *it != "CPU"; ++it) ++columns;
      continue;
    }
    if (t[0] == "Legend:") break;
    if (columns > 0 && t.size() > columns) rows.emplace_back(t.begin() + 1, t.begin() + 1 + static_cast<long>(columns));
  }
  return rows;
}

void CheckRoundTrip(const std::string& fixture) {
  const SourceFile file = Fixture(fixture);
  auto imported = ImportTopology(file, ImportOptions{});
  INFO(imported.status().message());
  REQUIRE(imported.ok());
  for (const std::string& note : imported->notes) CHECK(note.rfind("WARNING", 0) == std::string::npos);
  // Through the written file, as a user gets it.
  testing::MemoryReader reader;
  auto topo = LoadTopology(SourceFile{"imported.toml", WriteTopologyFile(imported->spec, imported->Comment())}, reader);
  REQUIRE(topo.ok());
  const auto expected = MatrixOf(file.text);
  const PathMatrix m = ComputePathMatrix(*topo, DefaultDevices(*topo));
  REQUIRE(m.size() == expected.size());
  for (size_t i = 0; i < m.size(); ++i) {
    for (size_t j = 0; j < m.size(); ++j) {
      INFO(fixture << " row " << i << " column " << j);
      CHECK((i == j ? std::string("X") : m.at(i, j).info.ToString()) == expected[i][j]);
    }
  }
}

TEST_CASE("nvidia-smi, tabs, NIC legend, GPU NUMA ID column, ANSI codes: same matrix back") {
  CheckRoundTrip("smi_nvswitch_tabs.txt");
}

TEST_CASE("nvidia-smi, older layout with mlx5 columns and spaces: same matrix back") {
  CheckRoundTrip("smi_old_mlx5_spaces.txt");
}

TEST_CASE("nvidia-smi, every PCIe class: same matrix back") { CheckRoundTrip("smi_pcie_classes.txt"); }

TEST_CASE("nvidia-smi bandwidths are the datasheet line rates of the GPU generation's presets") {
  auto imported = ImportTopology(Fixture("smi_nvswitch_tabs.txt"), ImportOptions{});
  REQUIRE(imported.ok());
  auto topo = Topology::Build(imported->spec);
  REQUIRE(topo.ok());
  const PathMatrix m = ComputePathMatrix(*topo, DefaultDevices(*topo));
  // NV18 means an H100-class GPU (sm90): 18 NVLink4 links x 25 GB/s (900 GB/s bidirectional [H100 datasheet]) = 450;
  // PCIe Gen5 x16 = 32 GT/s x 16 lanes x 128/130 / 8 = 63 GB/s (pcie5x16), as dgx-h100.toml.
  CHECK(m.at(0, 1).bandwidth_GBps == Approx(450.0));
  CHECK(m.at(0, 4).bandwidth_GBps == Approx(63.0));
  CHECK(topo->node(topo->gpu(0)).spec.model == "h100-sxm");
  ImportOptions named;
  named.gpu_model = "h200-sxm";
  auto h200 = ImportTopology(Fixture("smi_nvswitch_tabs.txt"), named);
  REQUIRE(h200.ok());
  CHECK(h200->spec.nodes[0].model == "h200-sxm");
}

// The per-link NVLink and the PCIe figure an nvidia-smi fixture gets when --gpu-model names `model`.
std::pair<double, double> NvlinkAndPcieFor(const std::string& model) {
  ImportOptions named;
  named.gpu_model = model;
  auto imported = ImportTopology(Fixture("smi_nvswitch_tabs.txt"), named);
  REQUIRE(imported.ok());
  auto topo = Topology::Build(imported->spec);
  REQUIRE(topo.ok());
  const PathMatrix m = ComputePathMatrix(*topo, DefaultDevices(*topo));
  return {m.at(0, 1).bandwidth_GBps / 18, m.at(0, 4).bandwidth_GBps};  // the fixture's pairs are NV18
}

TEST_CASE("nvidia-smi: the GPU model picks the NVLink and PCIe generation") {
  // A100: NVLink3, 600 GB/s bidirectional over 12 links = 25 per link; PCIe Gen4 x16 = 16 x 16 x 128/130 / 8 = 31.5.
  CHECK(NvlinkAndPcieFor("a100-sxm-80gb") == std::pair(25.0, 31.5));
  // B200: NVLink5, 1.8 TB/s bidirectional over 18 links = 50 per link; PCIe Gen5 x16 = 63.
  CHECK(NvlinkAndPcieFor("b200") == std::pair(50.0, 63.0));
  // V100: NVLink2, 300 GB/s bidirectional over 6 links = 25 per link; PCIe Gen4 x16 is what wiresim writes before
  // Hopper (a V100 host is Gen3: edit the file).
  CHECK(NvlinkAndPcieFor("v100-sxm2-32gb").first == 25.0);
}

TEST_CASE("link presets by generation: NVLink by SM, PCIe by GT/s and width") {
  CHECK(NvlinkPresetForSm(70)->name == "nvlink2");
  CHECK(NvlinkPresetForSm(80)->name == "nvlink3");
  CHECK(NvlinkPresetForSm(86)->name == "nvlink-bridge-a6000");
  CHECK(NvlinkPresetForSm(90)->name == "nvlink4");
  CHECK(NvlinkPresetForSm(100)->name == "nvlink5");
  CHECK(NvlinkPresetForSm(89) == nullptr);  // Ada: no NVLink
  CHECK(NvlinkPresetForSm(0) == nullptr);
  // x16 at each generation's preset; x8 half of it; Gen2 5 GT/s x 8b/10b / 8 = 0.5 GB/s a lane; Gen6 twice Gen5.
  CHECK(PcieLineRate(16, 16) == Approx(31.5));
  CHECK(PcieLineRate(32, 8) == Approx(31.5));
  CHECK(PcieLineRate(8, 16) == Approx(15.75));
  CHECK(PcieLineRate(5, 4) == Approx(2.0));
  CHECK(PcieLineRate(64, 16) == Approx(126.0));
  CHECK(PcieLineRate(12, 16) == 0);
  CHECK(PcieLineRate(16, 0) == 0);
}

TEST_CASE("NCCL XML: switch ports merged, NVSwitch counts summed, datasheet bandwidths") {
  auto imported = ImportTopology(Fixture("nccl_hgx_2socket.xml"), ImportOptions{});
  INFO(imported.status().message());
  REQUIRE(imported.ok());
  auto topo = Topology::Build(imported->spec);
  REQUIRE(topo.ok());
  REQUIRE(topo->gpu_count() == 2);
  REQUIRE(topo->nics().size() == 3);  // a dual-port NIC on socket 0, one port on socket 1
  const PathMatrix m = ComputePathMatrix(*topo, DefaultDevices(*topo));
  // GPU0 and GPU1: 5+5+4+4 = 18 links at nvlink4's 25 GB/s (sm90).
  CHECK(m.at(0, 1).info.ToString() == "NV18");
  CHECK(m.at(0, 1).bandwidth_GBps == Approx(450.0));
  // The GPU and its NIC sit under two downstream ports of one Broadcom switch: one bridge, PIX; "32.0 GT/s" x16 =
  // 32 x 16 x 128/130 / 8 = 63 GB/s (pcie5x16).
  CHECK(m.at(0, 2).info.ToString() == "PIX");
  CHECK(m.at(0, 3).info.ToString() == "PIX");
  CHECK(m.at(0, 2).bandwidth_GBps == Approx(63.0));
  CHECK(m.at(0, 4).info.ToString() == "SYS");
  // Sapphire Rapids (Intel model 143): NCCL SRP_QPI_BW = 22 GB/s between sockets.
  CHECK(m.at(0, 4).bandwidth_GBps == Approx(22.0));
  CHECK(topo->node(topo->gpu(0)).spec.model == "h100-sxm");  // PCI device 0x2330
}

TEST_CASE("NCCL XML: GPU-to-GPU NVLink, hidden NVSwitch, NIC under the CPU, missing PCIe speed") {
  auto imported = ImportTopology(Fixture("nccl_vm_pairs.xml"), ImportOptions{});
  INFO(imported.status().message());
  REQUIRE(imported.ok());
  auto topo = Topology::Build(imported->spec);
  REQUIRE(topo.ok());
  const PathMatrix m = ComputePathMatrix(*topo, DefaultDevices(*topo));
  CHECK(m.at(0, 1).info.ToString() == "NV12");
  CHECK(m.at(0, 1).bandwidth_GBps == Approx(300.0));  // 12 x 25 (nvlink3: sm80)
  // GPU2's only NVLink goes to the hidden switch, which no other GPU uses: it reaches the others over PCIe.
  CHECK(m.at(0, 2).info.ToString() == "NODE");
  // PCIe: GPU0 at 16 GT/s x16 = 16 x 16 x 128/130 / 8 = 31.5 GB/s (pcie4x16); GPU2 gives no speed, so Gen4 x16
  // (31.5) is assumed, with a note.
  CHECK(m.at(0, 2).bandwidth_GBps == Approx(31.5));
  bool noted = false;
  for (const auto& n : imported->notes) noted = noted || n.find("assumed Gen4 x16") != std::string::npos;
  CHECK(noted);
  CHECK(topo->nics().size() == 1);
}

TEST_CASE("Import errors name the file and line") {
  auto not_smi = ImportTopology(SourceFile{"x.txt", "hello\nworld\n"}, ImportOptions{});
  REQUIRE_FALSE(not_smi.ok());
  CHECK_THAT(not_smi.status().message(), Catch::Matchers::Contains("x.txt:1: not `nvidia-smi topo -m` output"));
  auto short_row = ImportTopology(SourceFile{"y.txt", "\tGPU0\tGPU1\nGPU0\t X \tNV4\nGPU1\tNV4\n"}, ImportOptions{});
  REQUIRE_FALSE(short_row.ok());
  CHECK_THAT(short_row.status().message(), Catch::Matchers::Contains("y.txt:3: row GPU1 has 1 entries, expected 2"));
  auto bad_class =
      ImportTopology(SourceFile{"z.txt", "\tGPU0\tGPU1\nGPU0\t X \tNVX\nGPU1\tNVX\t X\n"}, ImportOptions{});
  REQUIRE_FALSE(bad_class.ok());
  CHECK_THAT(bad_class.status().message(), Catch::Matchers::Contains("z.txt:2: row GPU0, column GPU1: unknown class"));
  auto truncated =
      ImportTopology(SourceFile{"t.xml", "<system version=\"1\">\n  <cpu numaid=\"0\">\n"}, ImportOptions{});
  REQUIRE_FALSE(truncated.ok());
  CHECK_THAT(truncated.status().message(), Catch::Matchers::Contains("t.xml:3: XML syntax error"));
}

// Two GPUs and their NICs under one PCIe switch per pair, written in the layout of the hand-written NCCL_TOPO_FILEs
// cloud images ship (Azure's ndv5-topo.xml): every device a bare <pci> leaf, no <gpu> element, no <nvlink>.
const char* kPciOnlyXml = R"(<system version="1">
  <cpu numaid="0" affinity="0000ffff" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="ffff:ff:01.0" class="0x060400" link_speed="32.0 GT/s PCIe" link_width="16">
      <pci busid="0001:00:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16"/>
      <pci busid="0101:00:00.0" class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16"/>
    </pci>
    <pci busid="ffff:ff:02.0" class="0x060400" link_speed="32.0 GT/s PCIe" link_width="16">
      <pci busid="0002:00:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16"/>
      <pci busid="0102:00:00.0" class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16"/>
    </pci>
  </cpu>
</system>
)";

TEST_CASE("NCCL XML whose GPUs are PCI devices only describes no GPU link: refused, saying what to import instead") {
  auto imported = ImportTopology(SourceFile{"ndv5-topo.xml", kPciOnlyXml}, ImportOptions{});
  REQUIRE_FALSE(imported.ok());
  CHECK_THAT(imported.status().message(), Catch::Matchers::Contains("ndv5-topo.xml: 2 of its 2 GPUs are PCI devices "
                                                                    "with no <gpu> element"));
  CHECK_THAT(imported.status().message(), Catch::Matchers::Contains("NCCL_TOPO_DUMP_FILE"));
  // <gpu> elements whose only <nvlink> targets the GPU itself (Azure's ncv4-topo.xml): NVLink to nothing placeable.
  std::string self = kPciOnlyXml;
  for (const char* bus : {"0001:00:00.0", "0002:00:00.0"}) {
    const std::string leaf = std::string("<pci busid=\"") + bus +
                             "\" class=\"0x030200\" link_speed=\"32.0 GT/s PCIe\" "
                             "link_width=\"16\"/>";
    const size_t at = self.find(leaf);
    REQUIRE(at != std::string::npos);
    self.replace(at, leaf.size(),
                 leaf.substr(0, leaf.size() - 2) + "><gpu dev=\"0\" sm=\"80\" rank=\"0\" gdr=\"1\"><nvlink target=\"" +
                     bus + "\" count=\"12\" tclass=\"0x030200\"/></gpu></pci>");
  }
  auto to_itself = ImportTopology(SourceFile{"ncv4-topo.xml", self}, ImportOptions{});
  REQUIRE_FALSE(to_itself.ok());
  CHECK_THAT(to_itself.status().message(),
             Catch::Matchers::Contains("ncv4-topo.xml: its 2 <nvlink> elements reach no other GPU and no NVSwitch"));
  // NCCL's own dump of a PCIe machine (a <gpu> element, no <nvlink>) is a real description: imported, with a note.
  std::string dump = kPciOnlyXml;
  for (const char* bus : {"0001:00:00.0", "0002:00:00.0"}) {
    const std::string leaf = std::string("<pci busid=\"") + bus +
                             "\" class=\"0x030200\" link_speed=\"32.0 GT/s PCIe\" "
                             "link_width=\"16\"/>";
    const size_t at = dump.find(leaf);
    REQUIRE(at != std::string::npos);
    dump.replace(at, leaf.size(),
                 leaf.substr(0, leaf.size() - 2) + "><gpu dev=\"0\" sm=\"89\" rank=\"0\" gdr=\"1\"/></pci>");
  }
  auto pcie = ImportTopology(SourceFile{"dump.xml", dump}, ImportOptions{});
  INFO(pcie.status().message());
  REQUIRE(pcie.ok());
  bool noted = false;
  for (const auto& n : pcie->notes) noted = noted || n.find("no NVLink between its GPUs") != std::string::npos;
  CHECK(noted);
}

}  // namespace
}  // namespace wiresim
