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
  const detector = new DivergenceDetector(rule);
  for (let step = 0; step < losses.length; step++) {
    const verdict = detector.push(step, losses[step]);
    if (verdict.diverged) return verdict;
  }
  return { diverged: false };
}

/** The same rule fed one loss at a time, for a live loss stream (steps must arrive in order; repeats are ignored). */
export class DivergenceDetector {
  private ema = Number.NaN;
  private minEma = Infinity;
  private strikes = 0;
  private seen = 0;
  private lastStep = -Infinity;

  constructor(private readonly rule: DivergenceRule = defaultDivergenceRule) {
    if (!(rule.emaAlpha > 0 && rule.emaAlpha <= 1) || !(rule.factor > 1) || !(rule.patience >= 1) || !(rule.warmupSteps >= 0)) {
      throw new RangeError('divergence rule needs 0 < emaAlpha ≤ 1, factor > 1, patience ≥ 1, warmupSteps ≥ 0');
    }
  }

  push(step: number, loss: number): DivergenceVerdict {
    if (step <= this.lastStep) return { diverged: false };
    this.lastStep = step;
    if (!Number.isFinite(loss)) return { diverged: true, step, cause: 'non_finite_loss' };
    const rule = this.rule;
    this.ema = Number.isNaN(this.ema) ? loss : rule.emaAlpha * loss + (1 - rule.emaAlpha) * this.ema;
    if (this.seen >= rule.warmupSteps && this.ema > rule.factor * this.minEma) {
      if (++this.strikes >= rule.patience) return { diverged: true, step, cause: 'loss_blowup' };
    } else {
      this.strikes = 0;
    }
    this.seen++;
    this.minEma = Math.min(this.minEma, this.ema);
    return { diverged: false };
  }
}
