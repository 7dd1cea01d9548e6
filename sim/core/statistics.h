// Summary statistics the reports and fits share.
#pragma once

#include <vector>

namespace wiresim {

// The median: the middle value, or the mean of the two middle values of an even count. 0 for no values.
double Median(std::vector<double> values);

}  // namespace wiresim
