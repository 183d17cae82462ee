// Validation loss: mean token cross-entropy over every target position of a job's validation set (the training
// masking: position t is a target iff mask[t+1] = 1), forward only, without dropout or gradients, with the adapter
// as it is now. Jobs evaluated at the same engine step share the frozen GEMMs: round k packs micro-batch k (examples
// [k*mbs, (k+1)*mbs) in file order) of every job that still has one into one fused batch, as a training step does.
#pragma once

#include <vector>

#include "grove/adapter.h"
#include "grove/backend.h"
#include "grove/model.h"
#include "grove/token_file.h"

namespace grove {

struct ValidationInput {
  Adapter* adapter = nullptr;
  const TokenView* data = nullptr;
  int micro_batch_size = 1;
  int64_t targets = 0;  // target positions in the whole set (> 0)
};

// One loss per input, in order. Throws std::bad_alloc when the backend runs out of memory.
std::vector<double> validation_losses(Backend& backend, const Model& model, const std::vector<ValidationInput>& jobs);

// Target positions of a token set (the denominator of its loss).
int64_t count_targets(const TokenView& data);

}  // namespace grove
