#include "sim/metrics/request_metrics.h"
