#include "sim/app/collective_progress.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <ostream>
#include <sstream>

namespace wiresim::app {
namespace {

// 130 s as "2m10s", 9.4 s as "9s".
std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  std::ostringstream out;
  if (s >= 3600)
    out << s / 3600 << "h" << s / 60 % 60 << "m";
  else if (s >= 60)
    out << s / 60 << "m" << s % 60 << "s";
  else
    out << s << "s";
  return out.str();
}

}  // namespace

CollectiveProgress::CollectiveProgress(std::ostream& err, bool enabled, bool count_events, std::vector<double> work)
    : err_(err), enabled_(enabled), count_events_(count_events), work_(std::move(work)) {
  for (double& w : work_) w = std::isfinite(w) && w > 0 ? w : 0;
  total_work_ = std::accumulate(work_.begin(), work_.end(), 0.0);
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void CollectiveProgress::StartSize(int index, double bytes) {
  index_ = index;
  bytes_ = bytes;
  fraction_ = 0;
  events_current_ = 0;
  Draw(/*now=*/index == 0);
}

void CollectiveProgress::Update(double fraction, uint64_t events) {
  // A simulated run may outlast the closed form it is measured against: never claim the size is done before it is.
  fraction_ = std::clamp(fraction, 0.0, 0.99);
  events_current_ = events;
  Draw(/*now=*/false);
}

void CollectiveProgress::FinishSize(uint64_t events) {
  if (index_ >= 0 && static_cast<size_t>(index_) < work_.size()) done_work_ += work_[static_cast<size_t>(index_)];
  events_done_ += events;
  events_current_ = 0;
  fraction_ = 0;
}

void CollectiveProgress::Clear() {
  if (!shown_) return;
  err_ << "\r\033[K" << std::flush;
  shown_ = false;
}

void CollectiveProgress::Draw(bool now) {
  if (!enabled_) return;
  const auto t = std::chrono::steady_clock::now();
  if (!now && t - last_draw_ < kRedraw) return;
  last_draw_ = t;
  std::ostringstream line;
  line << "  size " << index_ + 1 << " of " << work_.size() << " (" << static_cast<int64_t>(bytes_) << " B)";
  if (count_events_) line << ", " << events_done_ + events_current_ << " events";
  const double current =
      index_ >= 0 && static_cast<size_t>(index_) < work_.size() ? work_[static_cast<size_t>(index_)] : 0;
  const double done = done_work_ + fraction_ * current;
  const double elapsed = std::chrono::duration<double>(t - start_).count();
  if (done > 0 && total_work_ > done) {
    line << ", about " << Duration(elapsed * (total_work_ - done) / done) << " left";
  } else {
    line << ", estimating the time left";
  }
  err_ << "\r" << line.str() << "\033[K" << std::flush;
  shown_ = true;
}

}  // namespace wiresim::app
