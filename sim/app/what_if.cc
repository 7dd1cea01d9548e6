#include "sim/app/what_if.h"

#include <cmath>
#include <sstream>

#include "sim/core/text.h"

namespace wiresim::app {
namespace {

// Splits "TARGET=FACTOR" at its last '='.
Status SplitFactor(const std::string& text, const std::string& where, const char* expected, std::string* target,
                   double* factor) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || !ParseFiniteNumber(std::string_view(text).substr(eq + 1), factor)) {
    return InvalidArgument(where + " " + text + ": expected " + expected);
  }
  *target = text.substr(0, eq);
  return Status::Ok();
}

std::string Number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

Status CheckDegradeFactor(double factor, const std::string& where, const std::string& target) {
  if (std::isfinite(factor) && factor > 0 && factor <= 1) return Status::Ok();
  return InvalidArgument(where + " " + target + "=" + Number(factor) +
                         ": expected the fraction of the link rate left, greater than 0 and at most 1 (--fail removes "
                         "a link)");
}

Status CheckStragglerFactor(double factor, const std::string& where, const std::string& gpu) {
  if (std::isfinite(factor) && factor >= 1 && factor <= kMaxStragglerFactor) return Status::Ok();
  return InvalidArgument(where + " " + gpu + "=" + Number(factor) +
                         ": expected how many times as long the GPU's kernels take, from 1 to " +
                         Number(kMaxStragglerFactor));
}

}  // namespace

std::string WhatIfs::Describe() const {
  std::vector<std::string> parts;
  for (const WhatIfDegrade& d : degrade) parts.push_back("degrade " + d.target + "=" + Number(d.factor));
  for (const WhatIfFailure& f : fail) parts.push_back("fail " + f.target);
  for (const WhatIfStraggler& s : straggler) parts.push_back("straggler " + s.gpu + "=" + Number(s.factor));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

Status AddDegrade(const std::string& text, const std::string& where, WhatIfs* w) {
  WhatIfDegrade d;
  WIRESIM_RETURN_IF_ERROR(
      SplitFactor(text, where, "ELEMENT=FACTOR or ELEMENT-ELEMENT=FACTOR (e.g. node1/nic3=0.5)", &d.target, &d.factor));
  WIRESIM_RETURN_IF_ERROR(CheckDegradeFactor(d.factor, where, d.target));
  d.where = where;
  w->degrade.push_back(std::move(d));
  return Status::Ok();
}

Status AddFailure(const std::string& text, const std::string& where, WhatIfs* w) {
  if (text.empty() || text.find('=') != std::string::npos) {
    return InvalidArgument(where + " " + text + ": expected an element of the topology (e.g. node0/nic2)");
  }
  w->fail.push_back({text, where});
  return Status::Ok();
}

Status AddStraggler(const std::string& text, const std::string& where, WhatIfs* w) {
  WhatIfStraggler s;
  WIRESIM_RETURN_IF_ERROR(SplitFactor(text, where, "GPU=FACTOR (e.g. node0/gpu3=1.3 or 3=1.3)", &s.gpu, &s.factor));
  WIRESIM_RETURN_IF_ERROR(CheckStragglerFactor(s.factor, where, s.gpu));
  s.where = where;
  w->straggler.push_back(std::move(s));
  return Status::Ok();
}

Status ReadWhatIfTable(config::TableReader& table, WhatIfs* w) {
  WIRESIM_RETURN_IF_ERROR(table.CheckKeys({"degrade", "fail", "straggler"}));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<config::TableReader> degrade, table.Table("degrade"));
  if (degrade) {
    for (const auto& [key, value] : degrade->table()) {
      const std::string target(key.str());
      WIRESIM_ASSIGN_OR_RETURN(double factor, degrade->Number(target));
      const std::string where = degrade->Where(target).ToString() + " (" + degrade->Field(target) + ")";
      WIRESIM_RETURN_IF_ERROR(CheckDegradeFactor(factor, where, target));
      w->degrade.push_back({target, factor, where});
    }
  }
  if (table.Has("fail")) {
    WIRESIM_ASSIGN_OR_RETURN(std::vector<std::string> fail, table.StringList("fail"));
    const std::string where = table.Where("fail").ToString() + " (" + table.Field("fail") + ")";
    for (const std::string& target : fail) WIRESIM_RETURN_IF_ERROR(AddFailure(target, where, w));
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<config::TableReader> straggler, table.Table("straggler"));
  if (straggler) {
    for (const auto& [key, value] : straggler->table()) {
      const std::string gpu(key.str());
      WIRESIM_ASSIGN_OR_RETURN(double factor, straggler->Number(gpu));
      const std::string where = straggler->Where(gpu).ToString() + " (" + straggler->Field(gpu) + ")";
      WIRESIM_RETURN_IF_ERROR(CheckStragglerFactor(factor, where, gpu));
      w->straggler.push_back({gpu, factor, where});
    }
  }
  return Status::Ok();
}

}  // namespace wiresim::app
