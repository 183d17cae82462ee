/**
 * Validation early stopping (pure): stop when `patience` consecutive evaluations fail to improve on the best loss so
 * far by more than `minDelta`. A non-finite validation loss never counts as an improvement.
 */
export interface EarlyStoppingRule {
  readonly patience: number;
  readonly minDelta: number;
}

export type EarlyStoppingVerdict =
  | { readonly stop: false; readonly bestEval: number | null }
  /** bestEval is null when no evaluation produced a finite loss. */
  | { readonly stop: true; readonly atEval: number; readonly bestEval: number | null };

export function checkEarlyStopping(validationLosses: readonly number[], rule: EarlyStoppingRule): EarlyStoppingVerdict {
  if (!Number.isInteger(rule.patience) || rule.patience < 1 || !(rule.minDelta >= 0)) {
    throw new RangeError('early stopping needs an integer patience ≥ 1 and minDelta ≥ 0');
  }
  let best = Infinity;
  let bestEval: number | null = null;
  let stale = 0;
  for (let i = 0; i < validationLosses.length; i++) {
    const loss = validationLosses[i];
    if (Number.isFinite(loss) && loss < best - rule.minDelta) {
      best = loss;
      bestEval = i;
      stale = 0;
    } else if (++stale >= rule.patience) {
      return { stop: true, atEval: i, bestEval };
    }
  }
  return { stop: false, bestEval };
}
