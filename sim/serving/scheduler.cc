#include "sim/serving/scheduler.h"
