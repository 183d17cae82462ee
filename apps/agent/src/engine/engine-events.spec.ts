import { describe, expect, it } from 'vitest';
import { EngineProtocolError, parseEngineEvent } from './engine-events';

// Lines recorded from `grove-engine serve` on a tiny random model.
const MEM = '{"current":{"base_weights":70016,"activations":0,"adapter_optimizer":7168,"total":77184},"peak":{"base_weights":70016,"activations":50112,"adapter_optimizer":7168,"total":127296}}';
const recorded = {
  ready: `{"event":"ready","model":"model","memory":${MEM}}`,
  added: `{"event":"job_added","id":"a","memory":${MEM}}`,
  step: `{"event":"step","id":"a","step":2,"loss":5.5194077889124555,"lr":0.0001,"tokens":16,"tokens_per_s":119232.14498628832,"grad_norm":0.06569569447300473,"memory":${MEM}}`,
  checkpointed: '{"event":"checkpointed","id":"a","step":2,"dir":"/tmp/agtry/out/a/checkpoint"}',
  finished: '{"event":"job_finished","id":"a","output_dir":"/tmp/agtry/out/a","early_stopped":false,"best_step":null,"best_val_loss":null}',
  evaluated: `{"event":"step","id":"a","step":4,"loss":3.6,"lr":0.01,"tokens":28,"tokens_per_s":9000.5,"grad_norm":0.3,"val_loss":3.6837,"memory":${MEM}}`,
  stopped: '{"event":"job_finished","id":"a","output_dir":"/o/a","early_stopped":true,"best_step":8,"best_val_loss":3.68368}',
  failed: '{"event":"job_failed","id":"b","reason":"data_error","message":"token 300 >= vocab_size 256"}',
  status: `{"event":"status","jobs":[{"id":"a","step":3,"steps":5}],"memory":${MEM}}`,
  error: '{"event":"error","cmd":"checkpoint_job","message":"no job \'zz\'"}',
  shutdown: '{"event":"shutdown"}',
};

describe(parseEngineEvent.name, () => {
  it('camel-cases the memory split', () => {
    expect(parseEngineEvent(recorded.ready)).toEqual({
      event: 'ready',
      model: 'model',
      memory: {
        current: { baseWeights: 70016, activations: 0, adapterOptimizer: 7168, total: 77184 },
        peak: { baseWeights: 70016, activations: 50112, adapterOptimizer: 7168, total: 127296 },
      },
    });
  });

  it("keeps a GPU engine's device figure", () => {
    const onGpu = recorded.ready.replace('"peak":', '"device_used_bytes":2147483648,"peak":');

    expect(parseEngineEvent(onGpu)).toMatchObject({ event: 'ready', memory: { deviceUsedBytes: 2147483648 } });
  });

  it('reads a step with its throughput and gradient norm', () => {
    expect(parseEngineEvent(recorded.step)).toMatchObject({
      event: 'step', id: 'a', step: 2, loss: 5.5194077889124555, lr: 0.0001, tokens: 16, tokensPerSecond: 119232.14498628832, gradNorm: 0.06569569447300473,
    });
  });

  it('reads the job lifecycle events', () => {
    expect(parseEngineEvent(recorded.added)).toMatchObject({ event: 'job_added', id: 'a' });
    expect(parseEngineEvent(recorded.checkpointed)).toEqual({ event: 'checkpointed', id: 'a', step: 2, dir: '/tmp/agtry/out/a/checkpoint' });
    expect(parseEngineEvent(recorded.finished)).toEqual({
      event: 'job_finished', id: 'a', outputDir: '/tmp/agtry/out/a', earlyStopped: false, bestStep: null, bestValLoss: null,
    });
    expect(parseEngineEvent(recorded.failed)).toEqual({ event: 'job_failed', id: 'b', reason: 'data_error', message: 'token 300 >= vocab_size 256' });
    expect(parseEngineEvent(recorded.status)).toMatchObject({ event: 'status', jobs: [{ id: 'a', step: 3, steps: 5 }] });
    expect(parseEngineEvent(recorded.error)).toEqual({ event: 'error', cmd: 'checkpoint_job', message: "no job 'zz'" });
    expect(parseEngineEvent(recorded.shutdown)).toEqual({ event: 'shutdown' });
  });

  it('reads the validation loss of an evaluated step (null, a non-finite loss, as NaN) and the early-stopping outcome', () => {
    expect(parseEngineEvent(recorded.evaluated)).toMatchObject({ event: 'step', step: 4, valLoss: 3.6837 });
    expect(parseEngineEvent(recorded.step)).not.toHaveProperty('valLoss');
    expect(parseEngineEvent(recorded.evaluated.replace('3.6837', 'null'))).toMatchObject({ valLoss: NaN });
    expect(parseEngineEvent(recorded.stopped)).toEqual({ event: 'job_finished', id: 'a', outputDir: '/o/a', earlyStopped: true, bestStep: 8, bestValLoss: 3.68368 });
  });

  it('refuses lines that are not known events, naming the problem', () => {
    expect(() => parseEngineEvent('loading weights...')).toThrow(EngineProtocolError);
    expect(() => parseEngineEvent('{"event":"teleport"}')).toThrow(/unexpected event/);
    expect(() => parseEngineEvent('{"event":"step","id":"a"}')).toThrow(/step/);
    expect(() => parseEngineEvent('{"event":"job_failed","id":"a","reason":"gremlins","message":""}')).toThrow(/reason/);
  });
});
