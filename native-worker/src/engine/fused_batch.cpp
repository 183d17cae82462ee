#include "grove/fused_batch.h"

namespace grove {

void FusedBatch::add_example(const TokenView& data, size_t example) {
  const uint64_t begin = data.offsets[example], end = data.offsets[example + 1];
  for (uint64_t t = begin; t < end; ++t) {
    ids.push_back(static_cast<int32_t>(data.tokens[t]));
    positions.push_back(static_cast<int32_t>(t - begin));
    // Position t predicts token t+1; it is a target iff mask[t+1] = 1. The last token predicts nothing.
    targets.push_back(t + 1 < end && data.mask[t + 1] ? static_cast<int32_t>(data.tokens[t + 1]) : -1);
  }
  seq_starts.push_back(tokens());
}

void FusedBatch::begin_segment(Adapter* adapter, uint64_t dropout_key) {
  JobSegment seg;
  seg.row_begin = seg.row_end = tokens();
  seg.adapter = adapter;
  seg.dropout_key = dropout_key;
  segments.push_back(seg);
}

void FusedBatch::end_segment() { segments.back().row_end = tokens(); }

int64_t FusedBatch::segment_targets(const JobSegment& seg) const {
  int64_t n = 0;
  for (int t = seg.row_begin; t < seg.row_end; ++t) n += targets[t] >= 0;
  return n;
}

}  // namespace grove
