// Batch shapes: the text form users type, and the counts the step graph reads from them.
#include "sim/parallel/batch.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("ParseBatch: prefill chunks with and without cached context, and decodes") {
  Result<BatchShape> b = ParseBatch("prefill=2x512@1024,decode=3x100");
  REQUIRE(b.ok());
  REQUIRE(b->prefills.size() == 2);
  CHECK(b->prefills[1].tokens == 512);
  CHECK(b->prefills[1].context == 1024);
  CHECK(b->decode_contexts == std::vector<int64_t>{100, 100, 100});
  CHECK(b->Tokens() == 2 * 512 + 3);  // one new token per decode
  CHECK(b->LogitRows() == 2 + 3);     // both chunks end their prompts
  CHECK(b->phase() == Phase::kMixed);
  CHECK(b->ToString() == "prefill=2x512@1024,decode=3x100");
  CHECK(ParseBatch("decode=8x64")->phase() == Phase::kDecode);
}

TEST_CASE("A batch's KV cache is its sequences' tokens, each in whole blocks") {
  // Chunks of 512 after 1024 cached: 1536 tokens, 96 blocks of 16 each; decodes of 100: 7 blocks, 112 tokens each.
  Result<BatchShape> b = ParseBatch("prefill=2x512@1024,decode=3x100");
  REQUIRE(b.ok());
  CHECK(b->KvCacheTokens(16) == 2 * 1536 + 3 * 112);
  CHECK(b->KvCacheTokens(1) == 2 * 1536 + 3 * 100);
}

TEST_CASE("ParseBatch: decodes verifying draft tokens (speculative decoding)") {
  // 4 sequences each computing its new token and 3 drafts: 4 query rows each, every one with its logits; the
  // context (100) counts them. 2 plain decodes after them: 1 row each.
  Result<BatchShape> b = ParseBatch("decode=4x100+3,decode=2x50");
  REQUIRE(b.ok());
  CHECK(b->decode_queries == std::vector<int64_t>{4, 4, 4, 4, 1, 1});
  CHECK(b->DecodeRows() == 4 * 4 + 2);
  CHECK(b->Tokens() == 18);
  CHECK(b->LogitRows() == 18);
  CHECK(b->ToString() == "decode=4x100+3,decode=2x50");
  // Plain decodes first: their queries are filled in as 1 when drafts appear.
  CHECK(ParseBatch("decode=2x50,decode=1x60+2")->decode_queries == std::vector<int64_t>{1, 1, 3});
  CHECK_THAT(ParseBatch("decode=2x3+3").status().message(), Contains("must exceed 3"));
  CHECK_THAT(ParseBatch("decode=2x30+0").status().message(), Contains("DRAFTS 1 to 32"));
  CHECK_THAT(ParseBatch("prefill=2x30+1").status().message(), Contains("expected prefill=NxTOKENS"));
}

TEST_CASE("ParseBatch errors say what an item looks like") {
  CHECK_THAT(ParseBatch("prefill=2").status().message(), Contains("expected prefill=NxTOKENS"));
  CHECK_THAT(ParseBatch("decode=2x10@5").status().message(), Contains("'decode=2x10@5'"));
  CHECK_THAT(ParseBatch("prefill=0x10").status().message(), Contains("'prefill=0x10'"));
  CHECK_FALSE(ParseBatch("").ok());
}

TEST_CASE("ParseBatch bounds a batch: 2^20 sequences, 2^24 tokens computed, 2^31 tokens of context") {
  // At each bound: 2^20 decodes of one token; one chunk of 2^24 tokens; 2^20 sequences of 2^11 = 2^31 context.
  CHECK(ParseBatch("decode=1048576x1").ok());
  CHECK(ParseBatch("prefill=1x16777216").ok());
  CHECK(ParseBatch("decode=1048576x2048").ok());
  CHECK(ParseBatch("pad=1048576,decode=1x1").ok());
  // One past each, alone or summed over items (2^19 + 2^19 + 1 sequences; 2^23 + 2^23 + 1 rows; 2^30 + 2^30 + 1
  // tokens of context), refused before anything is stored (2^31 sequences would take gigabytes).
  const struct {
    const char* text;
    const char* says;
  } refused[] = {
      {"decode=1048577x1", "more than 1048576 (2^20) sequences"},
      {"decode=524288x1,prefill=524288x1,decode=1x1", "more than 1048576 (2^20) sequences"},
      {"decode=2147483648x1024", "more than 1048576 (2^20) sequences"},
      {"prefill=1x16777217", "more than 16777216 (2^24) tokens computed"},
      {"prefill=1x8388608,prefill=1x8388608,decode=1x1", "more than 16777216 (2^24) tokens computed"},
      {"decode=1x2147483649", "more than 2147483648 (2^31) tokens of context"},
      {"prefill=1x1@2147483648", "more than 2147483648 (2^31) tokens of context"},
      {"decode=1x1073741824,decode=1x1073741824,decode=1x1", "more than 2147483648 (2^31) tokens of context"},
      {"pad=1048577", "padding rows, N from 0 to 1048576"},
  };
  for (const auto& r : refused) {
    INFO(r.text);
    const Result<BatchShape> b = ParseBatch(r.text);
    REQUIRE_FALSE(b.ok());
    CHECK_THAT(b.status().message(), Contains(r.says));
  }
}

}  // namespace
}  // namespace wiresim
