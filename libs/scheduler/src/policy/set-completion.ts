/** A job as the completion predictor sees it: how much is left and how much each fused step advances it. */
export interface ProgressingJob {
  readonly remainingTokens: number;
  readonly microBatchTokens: number;
}

/**
 * Predicted finish time of every job in one engine process, assuming no job joins: each fused step advances job i by
 * its micro-batch tokens and lasts stepSeconds(Σ tokens, count); jobs leave in order of remaining steps, and the step
 * gets shorter as they do.
 */
export function predictFinishTimes(
  now: number,
  jobs: readonly ProgressingJob[],
  stepSeconds: (fusedTokens: number, jobCount: number) => number,
): number[] {
  const steps = jobs.map((j) => j.remainingTokens / j.microBatchTokens);
  const order = jobs.map((_, i) => i).sort((a, b) => steps[a] - steps[b]);
  const finish = new Array<number>(jobs.length);
  let fused = jobs.reduce((s, j) => s + j.microBatchTokens, 0);
  let count = jobs.length;
  let t = now;
  let doneSteps = 0;
  for (const i of order) {
    t += (steps[i] - doneSteps) * stepSeconds(fused, count);
    doneSteps = steps[i];
    finish[i] = t;
    fused -= jobs[i].microBatchTokens;
    count--;
  }
  return finish;
}

/** Σ (finish − now): the set's contribution to total turnaround from now on. */
export function totalCompletionSeconds(
  now: number,
  jobs: readonly ProgressingJob[],
  stepSeconds: (fusedTokens: number, jobCount: number) => number,
): number {
  let total = 0;
  for (const f of predictFinishTimes(now, jobs, stepSeconds)) total += f - now;
  return total;
}
