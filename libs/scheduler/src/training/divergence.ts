/**
 * Divergence rule (pure; the engine's loss stream is its input):
 *
 * 1. Any NaN or ±Inf loss → diverged at that step.
 * 2. Otherwise track an exponential moving average of the loss (smoothing `emaAlpha`) and the minimum that EMA has
 *    reached. After `warmupSteps` steps, a step whose EMA exceeds `factor` × that minimum counts as a strike; `patience`
 *    consecutive strikes → diverged. Any step back under the line resets the strikes.
 *
 * The EMA stops one noisy batch from killing a job; comparing against the EMA's own best (not the first loss) catches
 * a run that learned and then blew up.
 */
export interface DivergenceRule {
  readonly emaAlpha: number;
  readonly factor: number;
  readonly patience: number;
  readonly warmupSteps: number;
}

export const defaultDivergenceRule: DivergenceRule = { emaAlpha: 0.1, factor: 2, patience: 20, warmupSteps: 50 };

export type DivergenceVerdict =
  | { readonly diverged: false }
  | { readonly diverged: true; readonly step: number; readonly cause: 'non_finite_loss' | 'loss_blowup' };

export function detectDivergence(losses: readonly number[], rule: DivergenceRule = defaultDivergenceRule): DivergenceVerdict {
  if (!(rule.emaAlpha > 0 && rule.emaAlpha <= 1) || !(rule.factor > 1) || !(rule.patience >= 1) || !(rule.warmupSteps >= 0)) {
    throw new RangeError('divergence rule needs 0 < emaAlpha ≤ 1, factor > 1, patience ≥ 1, warmupSteps ≥ 0');
  }
  let ema = Number.NaN;
  let minEma = Infinity;
  let strikes = 0;
  for (let step = 0; step < losses.length; step++) {
    const loss = losses[step];
    if (!Number.isFinite(loss)) return { diverged: true, step, cause: 'non_finite_loss' };
    ema = Number.isNaN(ema) ? loss : rule.emaAlpha * loss + (1 - rule.emaAlpha) * ema;
    if (step >= rule.warmupSteps && ema > rule.factor * minEma) {
      if (++strikes >= rule.patience) return { diverged: true, step, cause: 'loss_blowup' };
    } else {
      strikes = 0;
    }
    minEma = Math.min(minEma, ema);
  }
  return { diverged: false };
}
