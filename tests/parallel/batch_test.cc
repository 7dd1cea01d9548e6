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

}  // namespace
}  // namespace wiresim
