import { describe, expect, it } from 'vitest';
import { succeededData, succeededMessage } from './job-succeeded';

const plain = { adapterKey: 'k', trainedTokens: 100, finalLoss: 1.23456 };

describe(succeededData.name, () => {
  it('reports early stopping and the best evaluation in snake_case, null without a validation set', () => {
    expect(succeededData(plain)).toEqual({ final_loss: 1.23456, trained_tokens: 100, early_stopped: false, best_step: null, best_val_loss: null });
    expect(succeededData({ ...plain, earlyStopped: true, bestStep: 12, bestValidationLoss: 2.5 }))
      .toMatchObject({ early_stopped: true, best_step: 12, best_val_loss: 2.5 });
  });
});

describe(succeededMessage.name, () => {
  it('says whether the job stopped early and which evaluation was best', () => {
    expect(succeededMessage(plain)).toBe('Training finished; final training loss 1.2346');
    expect(succeededMessage({ ...plain, bestStep: 8, bestValidationLoss: 2.25 }))
      .toBe('Training finished; final training loss 1.2346; best validation loss 2.2500 at step 8');
    expect(succeededMessage({ ...plain, earlyStopped: true, bestStep: 8, bestValidationLoss: 2.25 }))
      .toBe('Training stopped early: the validation loss stopped improving; kept the adapter of step 8 (best validation loss 2.2500); final training loss 1.2346');
  });
});
