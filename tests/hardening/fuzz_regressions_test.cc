// Every input a fuzz target ever failed on (tests/hardening/data/<target>/),
// and the checked-in seeds (fuzz/corpus/<target>/), fed through the fuzz
// target's own code with its invariants: a finding stays fixed, also in the
// ordinary and sanitizer builds where libFuzzer is not available.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int ZichtFuzzDecoder(const uint8_t* data, size_t size);
extern "C" int ZichtFuzzRulePack(const uint8_t* data, size_t size);
extern "C" int ZichtFuzzReference(const uint8_t* data, size_t size);
extern "C" int ZichtFuzzConfig(const uint8_t* data, size_t size);
extern "C" int ZichtFuzzEngine(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using Target = int (*)(const uint8_t*, size_t);

std::vector<fs::path> Inputs(const std::string& target) {
  std::vector<fs::path> out;
  for (const char* dir : {"tests/hardening/data/", "fuzz/corpus/"}) {
    fs::path d = fs::path(ZICHT_SOURCE_DIR) / dir / target;
    if (!fs::is_directory(d)) continue;
    for (const auto& e : fs::directory_iterator(d)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RunAll(const std::string& target, Target fn, size_t at_least) {
  const auto inputs = Inputs(target);
  // The seeds are there: a renamed directory must not make this pass vacuously.
  ASSERT_GE(inputs.size(), at_least) << target;
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    // A violated invariant aborts before gtest can print the trace.
    std::fprintf(stderr, "input %s\n", p.c_str());
    std::ifstream in(p, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    // The target aborts on a violated invariant; a sanitizer reports the rest.
    EXPECT_EQ(fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

TEST(FuzzRegressions, Decoder) {
  RunAll("decoder", ZichtFuzzDecoder, 10);
}
TEST(FuzzRegressions, RulePack) {
  RunAll("rule_pack", ZichtFuzzRulePack, 1);
}
TEST(FuzzRegressions, Reference) {
  RunAll("reference", ZichtFuzzReference, 3);
}
TEST(FuzzRegressions, Config) {
  RunAll("config", ZichtFuzzConfig, 2);
}
TEST(FuzzRegressions, Engine) {
  RunAll("engine", ZichtFuzzEngine, 4);
}

}  // namespace
