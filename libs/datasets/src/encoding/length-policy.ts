import { countTargets, EncodedExample, trimTrailingNonTargets } from './encoded-example';

/** What to do with an example longer than max_seq_len. */
export type OverlengthPolicy = 'truncate' | 'refuse';

export type DropReason = 'overlength' | 'no_targets';

export type LengthOutcome = { kept: EncodedExample; truncated: boolean } | { dropped: DropReason };

/**
 * Applies max_seq_len to one encoded example.
 * An example with no target tokens is dropped as `no_targets`. A longer one is dropped as
 * `overlength` under "refuse"; under "truncate" its first max_seq_len tokens are kept, and if that
 * leaves no target it is dropped as `overlength` too (its length is what lost the targets).
 */
export function applyLengthPolicy(example: EncodedExample, maxSeqLen: number, policy: OverlengthPolicy): LengthOutcome {
  if (countTargets(example) === 0) return { dropped: 'no_targets' };
  if (example.ids.length <= maxSeqLen) return { kept: example, truncated: false };
  if (policy === 'refuse') return { dropped: 'overlength' };
  const cut = trimTrailingNonTargets({ ids: example.ids.slice(0, maxSeqLen), mask: example.mask.slice(0, maxSeqLen) });
  return countTargets(cut) === 0 ? { dropped: 'overlength' } : { kept: cut, truncated: true };
}
