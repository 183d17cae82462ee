#include "grove/early_stopping.h"

#include <cmath>

namespace grove {

bool ValidationState::observe(int64_t step, double loss, const EarlyStoppingRule& rule) {
  if (std::isfinite(loss) && loss < best_loss - rule.min_delta) {
    best_loss = loss;
    best_step = step;
    stale = 0;
    return true;
  }
  ++stale;
  if (rule.patience > 0 && stale >= rule.patience) stopped = true;
  return false;
}

}  // namespace grove
