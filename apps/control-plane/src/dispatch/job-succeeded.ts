import type { JobSucceeded } from '@grove/proto';

/** The `job.succeeded` event's data: snake_case like every event; best_* are null without a validation evaluation. */
export function succeededData(v: JobSucceeded) {
  return {
    final_loss: v.finalLoss,
    trained_tokens: v.trainedTokens,
    early_stopped: v.earlyStopped ?? false,
    best_step: v.bestStep ?? null,
    best_val_loss: v.bestValidationLoss ?? null,
  };
}

export function succeededMessage(v: JobSucceeded): string {
  const final = `final training loss ${v.finalLoss.toFixed(4)}`;
  const best = v.bestStep === undefined ? null : { step: v.bestStep, loss: (v.bestValidationLoss ?? NaN).toFixed(4) };
  if (v.earlyStopped) {
    const kept = best ? `kept the adapter of step ${best.step} (best validation loss ${best.loss})` : 'no evaluation was finite; kept the last adapter';
    return `Training stopped early: the validation loss stopped improving; ${kept}; ${final}`;
  }
  return `Training finished; ${final}${best ? `; best validation loss ${best.loss} at step ${best.step}` : ''}`;
}
