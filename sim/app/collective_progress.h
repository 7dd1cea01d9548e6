// The progress line `wiresim collective` keeps on stderr while it works through its sizes: which size, how many
// events the network simulation has run so far, and an estimate of the time left. Simulating a large collective on
// the flow network takes minutes; without it the command says nothing for that long.
//
//   CollectiveProgress progress(ctx.err, /*enabled=*/ctx.interactive && !quiet, /*count_events=*/true, work);
//   progress.StartSize(0, 8);  progress.Update(0.5, 1200);  progress.FinishSize(2400);
//   progress.Clear();  ctx.out << row << std::flush;  ...  progress.Clear();
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <vector>

namespace wiresim::app {

class CollectiveProgress {
 public:
  // `enabled`: print at all (a terminal, not --quiet). `count_events`: the sizes are simulated, so events are worth
  // counting. `work`: each size's expected cost in any one unit (the closed form's time): the estimate of time left
  // spreads the wall time so far over the work done.
  CollectiveProgress(std::ostream& err, bool enabled, bool count_events, std::vector<double> work);
  CollectiveProgress(const CollectiveProgress&) = delete;
  CollectiveProgress& operator=(const CollectiveProgress&) = delete;

  // Size `index` (into `work`) of `bytes` begins. Draws the line at once for the first size, so a slow first size is
  // not silent; afterwards at most every kRedraw of wall time.
  void StartSize(int index, double bytes);
  // Within the current size: `fraction` of it done (capped below 1), `events` run in it so far.
  void Update(double fraction, uint64_t events);
  // The current size is done after `events`.
  void FinishSize(uint64_t events);
  // Erases the line (before a table row is printed, and at the end); the next update draws it again.
  void Clear();

  static constexpr std::chrono::milliseconds kRedraw{200};

 private:
  void Draw(bool now);

  std::ostream& err_;
  bool enabled_;
  bool count_events_;
  std::vector<double> work_;
  double total_work_ = 0;
  double done_work_ = 0;  // of the sizes finished
  int index_ = -1;
  double bytes_ = 0;
  double fraction_ = 0;          // of the current size
  uint64_t events_done_ = 0;     // in the sizes finished
  uint64_t events_current_ = 0;  // in the current size
  bool shown_ = false;           // a line is on the terminal
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace wiresim::app
