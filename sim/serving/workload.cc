#include "sim/serving/workload.h"
