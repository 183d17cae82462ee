import { describe, expect, it } from 'vitest';
import { EngineProtocolError, parseEngineEvent } from './engine-events';

// Lines recorded from `grove-engine serve` on a tiny random model.
const MEM = '{"current":{"base_weights":70016,"activations":0,"adapter_optimizer":7168,"total":77184},"peak":{"base_weights":70016,"activations":50112,"adapter_optimizer":7168,"total":127296}}';
const recorded = {
  ready: `{"event":"ready","model":"model","memory":${MEM}}`,
  added: `{"event":"job_added","id":"a","memory":${MEM}}`,
  step: `{"event":"step","id":"a","step":2,"loss":5.5194077889124555,"lr":0.0001,"tokens":16,"tokens_per_s":119232.14498628832,"grad_norm":0.06569569447300473,"memory":${MEM}}`,
  checkpointed: '{"event":"checkpointed","id":"a","step":2,"dir":"/tmp/agtry/out/a/checkpoint"}',
  finished: '{"event":"job_finished","id":"a","output_dir":"/tmp/agtry/out/a"}',
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

  it('reads a step with its throughput and gradient norm', () => {
    expect(parseEngineEvent(recorded.step)).toMatchObject({
      event: 'step', id: 'a', step: 2, loss: 5.5194077889124555, lr: 0.0001, tokens: 16, tokensPerSecond: 119232.14498628832, gradNorm: 0.06569569447300473,
    });
  });

  it('reads the job lifecycle events', () => {
    expect(parseEngineEvent(recorded.added)).toMatchObject({ event: 'job_added', id: 'a' });
    expect(parseEngineEvent(recorded.checkpointed)).toEqual({ event: 'checkpointed', id: 'a', step: 2, dir: '/tmp/agtry/out/a/checkpoint' });
    expect(parseEngineEvent(recorded.finished)).toEqual({ event: 'job_finished', id: 'a', outputDir: '/tmp/agtry/out/a' });
    expect(parseEngineEvent(recorded.failed)).toEqual({ event: 'job_failed', id: 'b', reason: 'data_error', message: 'token 300 >= vocab_size 256' });
    expect(parseEngineEvent(recorded.status)).toMatchObject({ event: 'status', jobs: [{ id: 'a', step: 3, steps: 5 }] });
    expect(parseEngineEvent(recorded.error)).toEqual({ event: 'error', cmd: 'checkpoint_job', message: "no job 'zz'" });
    expect(parseEngineEvent(recorded.shutdown)).toEqual({ event: 'shutdown' });
  });

  it('refuses lines that are not known events, naming the problem', () => {
    expect(() => parseEngineEvent('loading weights...')).toThrow(EngineProtocolError);
    expect(() => parseEngineEvent('{"event":"teleport"}')).toThrow(/unexpected event/);
    expect(() => parseEngineEvent('{"event":"step","id":"a"}')).toThrow(/step/);
    expect(() => parseEngineEvent('{"event":"job_failed","id":"a","reason":"gremlins","message":""}')).toThrow(/reason/);
  });
});
