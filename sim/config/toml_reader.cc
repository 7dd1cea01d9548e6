#include "sim/config/toml_reader.h"

#include <cmath>
#include <sstream>

namespace wiresim::config {
namespace {

std::string Describe(const toml::node& node) {
  std::ostringstream out;
  switch (node.type()) {
    case toml::node_type::string:
      out << '"' << InputExcerpt(*node.value<std::string>()) << '"';
      break;
    case toml::node_type::integer:
      out << *node.value<int64_t>();
      break;
    case toml::node_type::floating_point:
      out << *node.value<double>();
      break;
    case toml::node_type::boolean:
      out << (*node.value<bool>() ? "true" : "false");
      break;
    case toml::node_type::table:
      out << "a table";
      break;
    case toml::node_type::array:
      out << "an array";
      break;
    default:
      out << "a date/time";
      break;
  }
  return out.str();
}

}  // namespace

Result<toml::table> ParseToml(const SourceFile& file) {
  try {
    return toml::parse(file.text, std::string_view(file.name));
  } catch (const toml::parse_error& err) {
    SourceLocation where{file.name, static_cast<int>(err.source().begin.line),
                         static_cast<int>(err.source().begin.column)};
    return InvalidInput(where, "", "TOML syntax error: " + std::string(err.description()));
  }
}

SourceLocation LocationOf(const toml::node& node, const std::string& file) {
  return SourceLocation{file, static_cast<int>(node.source().begin.line), 0};
}

TableReader::TableReader(const toml::table& table, std::string file, std::string path)
    : table_(&table), file_(std::move(file)), path_(std::move(path)) {}

std::string TableReader::Field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

SourceLocation TableReader::where() const {
  SourceLocation loc = LocationOf(*table_, file_);
  if (loc.line == 0 && !table_->empty()) loc = LocationOf(table_->begin()->second, file_);
  return loc;
}

SourceLocation TableReader::Where(std::string_view key) const {
  if (const toml::node* node = table_->get(key)) return LocationOf(*node, file_);
  return where();
}

Status TableReader::Error(std::string_view key, const std::string& message) const {
  return InvalidInput(Where(key), Field(key), message);
}

const toml::node* TableReader::Find(std::string_view key) {
  known_.emplace(key);
  return table_->get(key);
}

Status TableReader::WrongType(std::string_view key, const std::string& expected) const {
  return Error(key, "expected " + expected + ", got " + Describe(*table_->get(key)));
}

Result<std::optional<std::string>> TableReader::OptionalString(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::optional<std::string>();
  if (auto v = node->value<std::string>(); v && node->is_string()) return std::optional<std::string>(*v);
  return WrongType(key, "a string");
}

Result<std::optional<int64_t>> TableReader::OptionalInt(std::string_view key, int64_t min, int64_t max) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::optional<int64_t>();
  if (!node->is_integer()) return WrongType(key, "an integer");
  const int64_t v = *node->value<int64_t>();
  if (v < min || v > max) {
    std::string range = min == INT64_MIN   ? "<= " + std::to_string(max)
                        : max == INT64_MAX ? ">= " + std::to_string(min)
                                           : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    return Error(key, "expected an integer " + range + ", got " + std::to_string(v));
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<double>> TableReader::OptionalNumber(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::optional<double>();
  if (node->is_integer()) return std::optional<double>(static_cast<double>(*node->value<int64_t>()));
  if (node->is_floating_point()) {
    const double v = *node->value<double>();
    if (!std::isfinite(v)) return Error(key, "expected a finite number, got " + Describe(*node));
    return std::optional<double>(v);
  }
  return WrongType(key, "a number");
}

Result<std::optional<double>> TableReader::OptionalNumberIn(std::string_view key, const NumericRange& range) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<double> v, OptionalNumber(key));
  if (v) WIRESIM_RETURN_IF_ERROR(CheckNumber(Where(key), Field(key), *v, range));
  return v;
}

Result<std::optional<int64_t>> TableReader::OptionalIntIn(std::string_view key, const NumericRange& range) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> v, OptionalInt(key));
  if (v) WIRESIM_RETURN_IF_ERROR(CheckInteger(Where(key), Field(key), *v, range));
  return v;
}

Result<std::optional<bool>> TableReader::OptionalBool(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::optional<bool>();
  if (!node->is_boolean()) return WrongType(key, "true or false");
  return std::optional<bool>(*node->value<bool>());
}

Result<std::string> TableReader::String(std::string_view key) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalString(key));
  if (!v) return Error(key, "is required (a string)");
  return *v;
}

Result<int64_t> TableReader::Int(std::string_view key, int64_t min, int64_t max) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalInt(key, min, max));
  if (!v) return Error(key, "is required (an integer)");
  return *v;
}

Result<double> TableReader::Number(std::string_view key) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalNumber(key));
  if (!v) return Error(key, "is required (a number)");
  return *v;
}

Result<std::string> TableReader::StringOr(std::string_view key, std::string fallback) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalString(key));
  return v ? *v : fallback;
}

Result<int64_t> TableReader::IntOr(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalInt(key, min, max));
  return v ? *v : fallback;
}

Result<double> TableReader::NumberOr(std::string_view key, double fallback) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalNumber(key));
  return v ? *v : fallback;
}

Result<bool> TableReader::BoolOr(std::string_view key, bool fallback) {
  WIRESIM_ASSIGN_OR_RETURN(auto v, OptionalBool(key));
  return v ? *v : fallback;
}

Result<std::vector<std::string>> TableReader::StringList(std::string_view key) {
  const toml::node* node = Find(key);
  std::vector<std::string> out;
  if (node == nullptr) return out;
  if (node->is_string()) {
    out.push_back(*node->value<std::string>());
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) return WrongType(key, "a string or an array of strings");
  for (const toml::node& item : *array) {
    if (!item.is_string()) {
      return InvalidInput(LocationOf(item, file_), Field(key), "expected strings, got " + Describe(item));
    }
    out.push_back(*item.value<std::string>());
  }
  return out;
}

Result<std::vector<TableReader>> TableReader::Tables(std::string_view key) {
  const toml::node* node = Find(key);
  std::vector<TableReader> out;
  if (node == nullptr) return out;
  if (const toml::table* single = node->as_table()) {
    out.emplace_back(*single, file_, Field(key));
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) return WrongType(key, "tables ([[" + Field(key) + "]])");
  for (const toml::node& item : *array) {
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      return InvalidInput(LocationOf(item, file_), Field(key), "expected a table, got " + Describe(item));
    }
    out.emplace_back(*t, file_, Field(key));
  }
  return out;
}

Result<std::optional<TableReader>> TableReader::Table(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::optional<TableReader>();
  const toml::table* t = node->as_table();
  if (t == nullptr) return WrongType(key, "a table");
  return std::optional<TableReader>(TableReader(*t, file_, Field(key)));
}

Status TableReader::CheckKeys(std::initializer_list<std::string_view> allowed) {
  for (std::string_view key : allowed) known_.emplace(key);
  return CheckNoUnknownKeys();
}

Status TableReader::CheckNoUnknownKeys() const {
  for (const auto& [key, node] : *table_) {
    if (known_.count(key.str()) != 0) continue;
    std::string allowed;
    for (const std::string& k : known_) allowed += (allowed.empty() ? "" : ", ") + k;
    return InvalidInput(LocationOf(node, file_), Field(key.str()),
                        "unknown key" + (allowed.empty() ? std::string() : " (expected one of: " + allowed + ")"));
  }
  return Status::Ok();
}

}  // namespace wiresim::config
