// One fused micro-step's token batch: every active job's micro-batch packed back to back without padding.
// Rows of a job are contiguous (its segment); each example is its own sequence with positions from 0.
#pragma once

#include <cstdint>
#include <vector>

#include "grove/adapter.h"
#include "grove/token_file.h"

namespace grove {

struct JobSegment {
  int row_begin = 0;
  int row_end = 0;
  Adapter* adapter = nullptr;
  uint64_t dropout_key = 0;  // per (job seed, optimizer step, micro-batch); layer and module are mixed in later
};

struct FusedBatch {
  std::vector<int32_t> ids;
  std::vector<int32_t> positions;
  std::vector<int32_t> targets;  // next token id where it is a loss target, else -1
  std::vector<int32_t> seq_starts;
  std::vector<JobSegment> segments;
  bool training = true;  // false for evaluation: no LoRA dropout

  int tokens() const { return static_cast<int>(ids.size()); }
  int num_seqs() const { return static_cast<int>(seq_starts.size()) - 1; }

  FusedBatch() : seq_starts{0} {}
  // Appends one example (tokens [begin, end) of `data`) as a new sequence.
  void add_example(const TokenView& data, size_t example);
  // Opens a job segment starting at the current end of the batch; close it after adding its examples.
  void begin_segment(Adapter* adapter, uint64_t dropout_key);
  void end_segment();
  // Number of loss targets in the rows of a segment.
  int64_t segment_targets(const JobSegment& seg) const;
};

}  // namespace grove
