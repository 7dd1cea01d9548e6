#include "sim/calibration/robust_fit.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "sim/core/check.h"
#include "sim/core/statistics.h"

namespace wiresim {

void LinearProblem::AddRow(const std::vector<double>& x, double y, double weight) {
  WIRESIM_CHECK_EQ(static_cast<int>(x.size()), columns_);
  rows_.insert(rows_.end(), x.begin(), x.end());
  y_.push_back(y);
  weights_.push_back(weight);
}

void LinearProblem::AddPrior(int column, double value, double weight) {
  std::vector<double> row(static_cast<size_t>(columns_), 0.0);
  row[static_cast<size_t>(column)] = weight;
  constraint_rows_.insert(constraint_rows_.end(), row.begin(), row.end());
  constraint_y_.push_back(value * weight);
}

void LinearProblem::AddTie(int a, int b, double weight) {
  std::vector<double> row(static_cast<size_t>(columns_), 0.0);
  row[static_cast<size_t>(a)] = weight;
  row[static_cast<size_t>(b)] = -weight;
  constraint_rows_.insert(constraint_rows_.end(), row.begin(), row.end());
  constraint_y_.push_back(0.0);
}

struct RobustSolver {
  static Result<RobustFit> Solve(const LinearProblem& p, int max_iterations) {
    const int n = p.observations();
    const int c = p.columns_;
    const int k = static_cast<int>(p.constraint_y_.size());
    if (n == 0) return InvalidArgument("nothing to fit: no observations");
    Eigen::MatrixXd a(n, c);
    Eigen::VectorXd y(n), w(n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < c; ++j) a(i, j) = p.rows_[static_cast<size_t>(i * c + j)];
      y(i) = p.y_[static_cast<size_t>(i)];
      w(i) = p.weights_[static_cast<size_t>(i)];
    }
    Eigen::MatrixXd cons(k, c);
    Eigen::VectorXd cy(k);
    for (int i = 0; i < k; ++i) {
      for (int j = 0; j < c; ++j) cons(i, j) = p.constraint_rows_[static_cast<size_t>(i * c + j)];
      cy(i) = p.constraint_y_[static_cast<size_t>(i)];
    }
    Eigen::VectorXd robust = Eigen::VectorXd::Ones(n);  // Huber weights
    Eigen::VectorXd x = Eigen::VectorXd::Zero(c);
    RobustFit fit;
    for (int iter = 0; iter < max_iterations; ++iter) {
      Eigen::MatrixXd system(n + k, c);
      Eigen::VectorXd rhs(n + k);
      for (int i = 0; i < n; ++i) {
        const double s = w(i) * std::sqrt(robust(i));
        system.row(i) = a.row(i) * s;
        rhs(i) = y(i) * s;
      }
      system.bottomRows(k) = cons;
      rhs.tail(k) = cy;
      Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(system);
      if (qr.rank() < c) {
        return InvalidArgument("the fit is underdetermined: " + std::to_string(qr.rank()) +
                               " independent equations for " + std::to_string(c) + " parameters");
      }
      const Eigen::VectorXd next = qr.solve(rhs);
      const bool converged = iter > 0 && (next - x).norm() <= 1e-10 * (1 + x.norm());
      x = next;
      fit.iterations = iter + 1;
      // Huber weights from the scaled residuals: scale = 1.4826 x median absolute residual (robust sigma).
      Eigen::VectorXd r = (a * x - y).cwiseProduct(w);
      std::vector<double> abs(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) abs[static_cast<size_t>(i)] = std::fabs(r(i));
      std::nth_element(abs.begin(), abs.begin() + n / 2, abs.end());
      const double sigma = std::max(1.4826 * abs[static_cast<size_t>(n / 2)], 1e-9);
      const double delta = 1.345 * sigma;
      fit.down_weighted = 0;
      for (int i = 0; i < n; ++i) {
        const double e = std::fabs(r(i));
        robust(i) = e <= delta ? 1.0 : delta / e;
        if (e > delta) ++fit.down_weighted;
      }
      if (converged) break;
    }
    fit.coefficients.assign(x.data(), x.data() + c);
    const Eigen::VectorXd r = (a * x - y).cwiseProduct(w);
    fit.weighted_residuals.assign(r.data(), r.data() + n);
    std::vector<double> abs(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) abs[static_cast<size_t>(i)] = std::fabs(r(i));
    fit.median_abs_residual = Median(std::move(abs));
    return fit;
  }
};

Result<RobustFit> SolveRobust(const LinearProblem& problem, int max_iterations) {
  return RobustSolver::Solve(problem, max_iterations);
}

}  // namespace wiresim
