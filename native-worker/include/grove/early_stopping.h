// A job's validation record: the best loss so far, its step, and the early-stopping rule applied one evaluation at
// a time. The rule is the scheduler library's checkEarlyStopping (libs/scheduler/src/training/early-stopping.ts):
// an evaluation improves when its loss is finite and below best - min_delta; `patience` evaluations in a row that do
// not improve stop the job. Without early stopping (patience 0) min_delta still applies and nothing ever stops.
#pragma once

#include <cstdint>
#include <limits>

#include "grove/job_spec.h"

namespace grove {

struct ValidationState {
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t best_step = 0;  // optimizer step of the best evaluation; 0 = no finite evaluation yet
  int64_t stale = 0;      // evaluations in a row without an improvement
  bool stopped = false;   // the rule fired

  bool has_best() const { return best_step > 0; }
  // Records the evaluation taken after optimizer step `step`; true when it improved on the best.
  bool observe(int64_t step, double loss, const EarlyStoppingRule& rule);
};

}  // namespace grove
