// Robust linear least squares: the solver behind every calibration fit. Minimises the Huber loss of the weighted
// residuals by iteratively reweighted least squares (Eigen's QR inside), so a few outliers in a measured sweep (a
// hiccup of the machine, a row printed as 0.00) do not drag the fit. Prior rows (value, weight) pull individual
// coefficients towards a default where the data cannot tell them apart.
//
//   LinearProblem p(/*columns=*/2);
//   for (auto [x, t] : points) p.AddRow({1.0, x}, t, /*weight=*/1.0 / t);   // relative error
//   p.AddPrior(/*column=*/0, /*value=*/5.0, /*weight=*/0.01);
//   WIRESIM_ASSIGN_OR_RETURN(RobustFit fit, SolveRobust(p));
#pragma once

#include <vector>

#include "sim/core/status.h"

namespace wiresim {

class LinearProblem {
 public:
  explicit LinearProblem(int columns) : columns_(columns) {}

  // One observation: sum_j coefficients[j] * x[j] = y, with the residual scaled by `weight`.
  // REQUIRES: x.size() == columns.
  void AddRow(const std::vector<double>& x, double y, double weight);
  // A soft constraint coefficient[column] = value (not subject to the robust down-weighting).
  void AddPrior(int column, double value, double weight);
  // A soft constraint coefficient[a] - coefficient[b] = 0: smoothness between neighbours.
  void AddTie(int a, int b, double weight);

  int columns() const { return columns_; }
  int observations() const { return static_cast<int>(y_.size()); }

 private:
  friend struct RobustSolver;
  int columns_;
  std::vector<double> rows_;  // row-major observations
  std::vector<double> y_;
  std::vector<double> weights_;
  std::vector<double> constraint_rows_;
  std::vector<double> constraint_y_;
};

struct RobustFit {
  std::vector<double> coefficients;
  std::vector<double> weighted_residuals;  // per observation, at the solution, before robust down-weighting
  double median_abs_residual = 0;          // of the weighted residuals
  int iterations = 0;
  int down_weighted = 0;  // observations the Huber loss treated as outliers at the end
};

// Fails when there are no observations or the system is singular even with its priors.
Result<RobustFit> SolveRobust(const LinearProblem& problem, int max_iterations = 30);

}  // namespace wiresim
