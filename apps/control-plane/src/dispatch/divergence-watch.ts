import { DivergenceDetector, type DivergenceVerdict } from '@grove/scheduler';

const FORGET_AFTER_MS = 10 * 60_000;

interface StepLoss {
  step: number;
  loss: number;
}

/**
 * The divergence rule (libs/scheduler training/divergence.ts) over each running attempt's live loss stream. State is
 * per attempt: a resumed run starts a fresh moving average. A control plane that restarts relearns from new steps.
 */
export class DivergenceWatch {
  private readonly detectors = new Map<string, { attempt: number; detector: DivergenceDetector; seenAt: number }>();
  private sweptAt = 0;

  observe(jobId: string, attempt: number, steps: readonly StepLoss[], now = Date.now()): DivergenceVerdict {
    this.sweep(now);
    let entry = this.detectors.get(jobId);
    if (!entry || entry.attempt !== attempt) {
      entry = { attempt, detector: new DivergenceDetector(), seenAt: now };
      this.detectors.set(jobId, entry);
    }
    entry.seenAt = now;
    for (const s of [...steps].sort((a, b) => a.step - b.step)) {
      const verdict = entry.detector.push(s.step, s.loss);
      if (verdict.diverged) {
        this.detectors.delete(jobId);
        return verdict;
      }
    }
    return { diverged: false };
  }

  /** Forgets attempts no heartbeat mentioned for a while (finished, moved or failed). */
  private sweep(now: number): void {
    if (now - this.sweptAt < FORGET_AFTER_MS) return;
    this.sweptAt = now;
    for (const [jobId, entry] of this.detectors) if (now - entry.seenAt > FORGET_AFTER_MS) this.detectors.delete(jobId);
  }
}
