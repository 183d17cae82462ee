import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config';
import type { NodeRecord, NodeTelemetry } from '../nodes/node-record';
import type { ActiveJob } from './active-job';
import { ClusterScheduler } from './cluster-scheduler';
import { jobShape } from './cluster-snapshot';

const GIB = 1024 ** 3;
const config = { scheduler: { agingBoundSeconds: 14_400, minRunSecondsBeforePreemption: 600, maxPreemptionsPerJob: 2, maxWaitingPerRound: 100 } } as AppConfig;
const summary = {
  architecture: 'LlamaForCausalLM', modelType: 'llama', layers: 16, hiddenSize: 2048, intermediateSize: 8192, attentionHeads: 32, kvHeads: 8,
  headDim: 64, vocabSize: 128256, maxPositionEmbeddings: 8192, tiedEmbeddings: true, dtype: 'bfloat16', parameters: 1.2e9,
};
const node: NodeRecord = {
  id: 'n1', name: 'n1', state: 'online', joinTokenId: 'j', backend: 'cuda', engineVersion: 'e', gpus: [{ index: 0, name: 'NVIDIA H200', totalMemoryBytes: 140 * GIB }],
  baseModels: ['llama'], labels: {}, agentLabels: {}, operatorLabels: {}, cordoned: false, draining: false, telemetry: null,
  registeredAt: new Date(0), lastHeartbeatAt: new Date(0),
};
const running: ActiveJob = {
  id: 'job1', status: 'running', attempt: 1, nodeId: 'n1', gpuIndex: 0, priority: 1, modelName: 'llama', summary,
  hyperparameters: { n_epochs: 1, micro_batch_size: 4, max_seq_len: 2048, lora: { r: 16 } } as ActiveJob['hyperparameters'],
  datasetTokens: 1e7, datasetMaxLen: 2048, trainedTokens: 0, preemptions: 0, nodeSelector: {}, createdAt: new Date(0), queuedAt: null,
  updatedAt: new Date(0), waitReason: null, estimatedStartAt: null,
};

function telemetry(peakBytes: number): NodeTelemetry {
  return {
    gpus: [{ index: 0, memoryUsedBytes: peakBytes, memoryPeakBytes: peakBytes, baseWeightsBytes: 0, activationsBytes: 0, adapterOptimizerBytes: 0 }],
    jobs: [{ jobId: 'job1', attempt: 1, gpuIndex: 0, step: 5, totalSteps: 100, loss: 2, learningRate: 1e-4, tokensPerSecond: 20_000, trainedTokens: 40_000 }],
  };
}

describe(ClusterScheduler.name, () => {
  describe('observeHeartbeat', () => {
    it('corrects the predicted peak toward what the engine measured for the jobs on that GPU', () => {
      const sut = new ClusterScheduler(config);
      sut.decide(new Date(1000), [node], [running]);
      const shape = [jobShape(running)];
      const before = sut.predictPeak(node, 'NVIDIA H200', shape);
      const measured = before + 20 * GIB;

      sut.observeHeartbeat(node, telemetry(measured));

      const after = sut.predictPeak(node, 'NVIDIA H200', shape);
      expect(Math.abs(measured - after)).toBeLessThan(0.25 * (measured - before));
    });
  });

  describe('observeOom', () => {
    it('raises the predicted peak of the set that ran out above the GPU', () => {
      const sut = new ClusterScheduler(config);
      sut.decide(new Date(1000), [node], [running]);

      sut.observeOom(node, 0, 'job1', ['job1']);

      expect(sut.predictPeak(node, 'NVIDIA H200', [jobShape(running)])).toBeGreaterThan(140 * GIB);
    });
  });
});
