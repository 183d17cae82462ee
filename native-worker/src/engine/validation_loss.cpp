#include "engine/validation_loss.h"

#include <algorithm>

#include "engine/model_step.h"
#include "grove/fused_batch.h"

namespace grove {

int64_t count_targets(const TokenView& data) {
  int64_t n = 0;
  for (size_t e = 0; e < data.num_examples(); ++e) {
    for (uint64_t t = data.offsets[e] + 1; t < data.offsets[e + 1]; ++t) n += data.mask[t];
  }
  return n;
}

std::vector<double> validation_losses(Backend& backend, const Model& model, const std::vector<ValidationInput>& jobs) {
  std::vector<double> sums(jobs.size(), 0.0);
  for (size_t round = 0;; ++round) {
    FusedBatch batch;
    batch.training = false;
    std::vector<size_t> owner;  // segment -> job
    for (size_t j = 0; j < jobs.size(); ++j) {
      const size_t mbs = static_cast<size_t>(jobs[j].micro_batch_size);
      const size_t first = round * mbs, n = jobs[j].data->num_examples();
      if (first >= n) continue;
      batch.begin_segment(jobs[j].adapter, 0);
      for (size_t e = first; e < std::min(n, first + mbs); ++e) batch.add_example(*jobs[j].data, e);
      batch.end_segment();
      owner.push_back(j);
    }
    if (owner.empty()) break;
    ModelStep ms(backend, model, batch);
    ms.forward(/*keep_activations=*/false);
    for (size_t s = 0; s < owner.size(); ++s) {
      const JobSegment& seg = batch.segments[s];
      for (int t = seg.row_begin; t < seg.row_end; ++t) sums[owner[s]] += ms.row_loss()[t];
    }
  }
  std::vector<double> losses(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) losses[j] = sums[j] / static_cast<double>(jobs[j].targets);
  return losses;
}

}  // namespace grove
