import { checkEarlyStopping } from '@grove/scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonl, uploadDataset } from '../testing/test-app';
import { E2eHarness, type Presented } from './e2e-harness';

const TRAINING = Array.from({ length: 12 }, (_, i) => ({ prompt: `Q${i}`, completion: ` A${i}` }));
/** Nothing like the training completions: as training pulls probability onto " A<i>", these targets lose it. */
const VALIDATION = ['cat', 'river', 'violin', 'glacier', 'lantern', 'orchard'].map((w) => ({
  prompt: `Describe a ${w}.`, completion: ` A ${w} is something people write long poems about.`,
}));

/**
 * Validation loss and early stopping through the whole system: the control plane tokenizes the validation file and
 * serves it, the real agent hands it to the real engine with the job's evaluation interval and rule, and the
 * validation losses come back as `metrics` events; the early-stopped job ends succeeded before its last step, with the
 * stop where libs/scheduler's checkEarlyStopping puts it for those same losses.
 */
describe('validation loss and early stopping end to end (real control plane, agent process, engine)', () => {
  let h: E2eHarness;
  let trainingFile: string;
  let validationFile: string;

  const submit = async (suffix: string, hyperparameters: Record<string, unknown>) =>
    (await h.t.http().post('/v1/jobs').set(bearer(h.team.member))
      .send({
        model: h.modelName, training_file: trainingFile, validation_file: validationFile, suffix,
        hyperparameters: { max_seq_len: 64, micro_batch_size: 1, lr_scheduler: 'constant', ...hyperparameters },
      })
      .expect(201)).body.id as string;

  /** The `metrics` events of a job once all `steps` have arrived (heartbeats carry them after the fact). */
  const curve = (id: string, steps: number) => h.until(`the metrics of ${steps} steps`, async () => {
    const metrics = (await h.events(id)).filter((e) => e.type === 'metrics');
    return metrics.length >= steps ? metrics.map((e) => e.data) : undefined;
  }, 20_000);

  const succeededEvent = async (id: string) => (await h.events(id)).find((e) => e.type === 'job.succeeded') as { message: string; data: Presented };

  beforeAll(async () => {
    h = await E2eHarness.start({ GROVE_DISPATCH_INTERVAL_MS: '200', GROVE_HEARTBEAT_INTERVAL_MS: '500', GROVE_NODE_GRACE_MS: '4000' });
    trainingFile = (await uploadDataset(h.t, h.team.member, jsonl(TRAINING)).expect(201)).body.id;
    validationFile = (await uploadDataset(h.t, h.team.member, jsonl(VALIDATION), 'validation.jsonl').expect(201)).body.id;
  }, 180_000);

  afterEach(async () => h.reset());
  afterAll(async () => h?.close());

  it('stops a job whose validation loss rises, at the evaluation checkEarlyStopping names, keeping the best step; a job without the rule trains all its steps', async () => {
    h.agent();
    const patience = 2;
    const stopping = await submit('es', { n_epochs: 10, batch_size: 2, learning_rate: 0.05, eval_every_steps: 2, early_stopping: { patience } });
    const plain = await submit('val', { n_epochs: 1, batch_size: 2, learning_rate: 0.05 });
    const [stopped, full] = await h.finished([stopping, plain]);

    expect(stopped).toMatchObject({ status: 'succeeded', total_steps: 60 });
    const stoppedMetrics = (await h.adapter(stopping)).metrics;
    const lastStep = stoppedMetrics.at(-1)?.step as number;
    expect(lastStep).toBeLessThan(60);
    const events = await curve(stopping, lastStep);
    const evaluated = events.filter((m) => m['val_loss'] !== undefined);
    expect(events.filter((m) => m['val_loss'] === undefined).every((m) => m['step'] % 2 !== 0)).toBe(true);
    expect(evaluated.map((m) => m['step'])).toEqual(Array.from({ length: lastStep / 2 }, (_, k) => 2 * (k + 1)));
    expect(evaluated.map((m) => m['val_loss'])).toEqual(stoppedMetrics.filter((m) => 'val_loss' in m).map((m) => m['val_loss']));
    const losses = evaluated.map((m) => m['val_loss'] ?? NaN) as number[];
    const verdict = checkEarlyStopping(losses, { patience, minDelta: 0 });
    expect(verdict).toMatchObject({ stop: true, atEval: losses.length - 1 });
    const bestEval = verdict.bestEval as number;
    expect(losses.at(-1)).toBeGreaterThan(losses[bestEval]);
    const succeeded = await succeededEvent(stopping);
    expect(succeeded.data).toMatchObject({ early_stopped: true, best_step: evaluated[bestEval]['step'], best_val_loss: losses[bestEval] });
    expect(succeeded.message).toMatch(/stopped early/);

    expect(full).toMatchObject({ status: 'succeeded', total_steps: 6 });
    const fullMetrics = (await h.adapter(plain)).metrics;
    expect(fullMetrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // 6 steps: the default interval max(1, round(6 / 10)) evaluates after every step.
    const fullCurve = await curve(plain, 6);
    const fullLosses = fullCurve.map((m) => m['val_loss']) as number[];
    expect(fullLosses.every((l) => Number.isFinite(l))).toBe(true);
    const best = fullLosses.indexOf(Math.min(...fullLosses));
    expect((await succeededEvent(plain)).data).toMatchObject({ early_stopped: false, best_step: best + 1, best_val_loss: fullLosses[best] });
  });
});
