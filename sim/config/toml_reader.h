// Reading TOML into plain structs with errors a user can act on. Every loader of a TOML file (topology, model,
// scenario) reads through TableReader, which names the file, line and dotted field of any problem, and rejects
// keys the loader did not ask for, so a typo such as `bandwith_GBps` is an error rather than a silent default.
//
//   WIRESIM_ASSIGN_OR_RETURN(toml::table doc, ParseToml(file));
//   TableReader top(doc, file.name, "");
//   WIRESIM_ASSIGN_OR_RETURN(std::string name, top.String("name"));
//   WIRESIM_ASSIGN_OR_RETURN(int64_t count, top.IntOr("count", 1, /*min=*/1));
//   WIRESIM_RETURN_IF_ERROR(top.CheckNoUnknownKeys());
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "sim/core/numeric_field.h"
#include "sim/core/source.h"
#include "sim/core/status.h"

namespace wiresim::config {

// Parses TOML text. A syntax error names the file, line and column.
Result<toml::table> ParseToml(const SourceFile& file);

// The location of a TOML node in `file`.
SourceLocation LocationOf(const toml::node& node, const std::string& file);

class TableReader {
 public:
  // `path` is the dotted name of this table for messages ("template.node"), empty for the document root.
  TableReader(const toml::table& table, std::string file, std::string path);

  // Required values: an error names the field when it is missing or of the wrong type.
  Result<std::string> String(std::string_view key);
  Result<int64_t> Int(std::string_view key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  // A number: TOML integer or float. Every number getter refuses inf and nan.
  Result<double> Number(std::string_view key);
  // A number in `range` (numeric_field.h): the check every bounded quantity of a TOML file goes through.
  Result<std::optional<double>> OptionalNumberIn(std::string_view key, const NumericRange& range);
  Result<std::optional<int64_t>> OptionalIntIn(std::string_view key, const NumericRange& range);

  // Optional values: nullopt when the key is absent.
  Result<std::optional<std::string>> OptionalString(std::string_view key);
  Result<std::optional<int64_t>> OptionalInt(std::string_view key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  Result<std::optional<double>> OptionalNumber(std::string_view key);
  Result<std::optional<bool>> OptionalBool(std::string_view key);

  Result<std::string> StringOr(std::string_view key, std::string fallback);
  Result<int64_t> IntOr(std::string_view key, int64_t fallback, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  Result<double> NumberOr(std::string_view key, double fallback);
  Result<bool> BoolOr(std::string_view key, bool fallback);

  // A string or an array of strings, as a list; empty when absent.
  Result<std::vector<std::string>> StringList(std::string_view key);

  // The tables of an array of tables (`[[key]]`), each with its own reader; empty when absent.
  Result<std::vector<TableReader>> Tables(std::string_view key);
  // A sub-table (`[key]`); nullopt when absent.
  Result<std::optional<TableReader>> Table(std::string_view key);

  // Marks a key as understood without reading it (for keys handled elsewhere).
  void Accept(std::string_view key) { known_.emplace(key); }
  bool Has(std::string_view key) const { return table_->contains(key); }

  // Fails on the first key that no getter asked for, naming it, its line, and the keys that are allowed.
  Status CheckNoUnknownKeys() const;
  // Declares the keys this table may have and fails on any other at once, so a misspelt key is reported as such
  // rather than as the missing key it was meant to be.
  Status CheckKeys(std::initializer_list<std::string_view> allowed);

  // The location of `key`'s value (or of this table when the key is absent), and an error placed there.
  SourceLocation Where(std::string_view key) const;
  SourceLocation where() const;
  Status Error(std::string_view key, const std::string& message) const;
  // The dotted field name of `key` ("template.node.count").
  std::string Field(std::string_view key) const;
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const toml::table& table() const { return *table_; }

 private:
  const toml::node* Find(std::string_view key);
  Status WrongType(std::string_view key, const std::string& expected) const;

  const toml::table* table_;
  std::string file_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace wiresim::config
