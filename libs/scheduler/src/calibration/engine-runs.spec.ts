import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareMemory,
  fitStepTimes,
  memoryModelForRuns,
  modelConfigOfRun,
  parseEngineRuns,
  throughputPriorFromFit,
  type EngineRuns,
} from './engine-runs';
import { countLoraParams } from '../models/model-config';
import { ThroughputModel } from '../throughput/throughput-model';
import { calibration } from '../testing/scenario';

const measured = (file: string): EngineRuns =>
  parseEngineRuns(JSON.parse(readFileSync(join(__dirname, 'engine-measurements', file), 'utf8')));

/** Runs of one shape whose step times follow step = fixed + perJob·k + perToken·T exactly. */
function synthetic(fixed: number, perJob: number, perToken: number): EngineRuns {
  const cpu = measured('cpu.json');
  const shape = cpu.runs[0];
  const runs = [1, 2, 4].flatMap((jobs) =>
    [64, 256].map((tokensPerJob) => ({
      ...shape,
      jobs,
      sequences_per_job: 1,
      seq_len: tokensPerJob,
      fused_tokens: jobs * tokensPerJob,
      step_seconds: fixed + perJob * jobs + perToken * jobs * tokensPerJob,
    })),
  );
  return { ...cpu, runs };
}

describe('engine measurements (native-worker/bench/engine_calibrate.cpp)', () => {
  // The real engine: the CPU backend (fp32) and the CUDA backend's bf16 layout, run under the emulator.
  describe.each(['cpu.json', 'cuda-emulated.json'])('%s against the memory model', (file) => {
    const runs = measured(file);
    const sut = memoryModelForRuns(calibration, runs);

    it('covers several shapes, job counts and batch sizes', () => {
      expect(new Set(runs.runs.map((r) => r.model_name)).size).toBeGreaterThanOrEqual(6);
      expect(new Set(runs.runs.map((r) => r.jobs)).size).toBeGreaterThanOrEqual(2);
      expect(new Set(runs.runs.map((r) => r.fused_tokens)).size).toBeGreaterThanOrEqual(4);
    });

    it('predicts the base weights exactly', () => {
      const perElement = runs.weight_dtype_bytes / runs.activation_dtype_bytes;
      for (const r of runs.runs) expect(sut.analyticBaseBytes(r.model_name) * perElement, r.model_name).toBe(r.peak_bytes.base_weights);
    });

    it('counts LoRA parameters, gradients and AdamW moments at exactly 16 bytes per parameter', () => {
      const { loraTargets, loraStateBytesPerParam } = calibration.memory;
      for (const r of runs.runs) {
        const params = countLoraParams(modelConfigOfRun(r, runs.activation_dtype_bytes), runs.lora_rank, loraTargets);
        expect(r.jobs * params * loraStateBytesPerParam, r.model_name).toBe(r.peak_bytes.adapter_optimizer);
      }
    });

    it('never under-predicts activations and LoRA state, and over-predicts by at most a quarter', () => {
      const { worstOver, worstUnder } = compareMemory(calibration, runs);

      expect(worstUnder).toBeGreaterThanOrEqual(0);
      expect(worstOver).toBeLessThanOrEqual(0.25);
    });
  });

  describe(fitStepTimes.name, () => {
    it('recovers the fixed, per-job and per-token step costs of runs that follow the model', () => {
      const [fit] = fitStepTimes(synthetic(0.004, 0.0015, 2e-5));

      expect(fit.fixedSeconds).toBeCloseTo(0.004, 6);
      expect(fit.perJobSeconds).toBeCloseTo(0.0015, 6);
      expect(fit.perTokenSeconds).toBeCloseTo(2e-5, 9);
      expect(fit.r2).toBeCloseTo(1, 6);
    });

    it("explains most of the real CPU engine's step times with the throughput model's form", () => {
      const fits = fitStepTimes(measured('cpu.json'));

      expect(fits).toHaveLength(6);
      for (const f of fits) {
        expect(f.r2, f.modelName).toBeGreaterThan(0.8);
        expect(f.perTokenSeconds, f.modelName).toBeGreaterThan(0);
      }
    });
  });

  describe(parseEngineRuns.name, () => {
    it('names the field that is wrong', () => {
      const bad = { ...measured('cpu.json'), runs: [{ ...measured('cpu.json').runs[0], step_seconds: -1 }] };

      expect(() => parseEngineRuns(bad)).toThrow(/runs\.0\.step_seconds/);
    });
  });
});

describe(throughputPriorFromFit.name, () => {
  it("recovers the prior's MFU, saturation and per-job cost from step times the prior itself predicts", () => {
    const gpu = { peakFlops: 989e12, hbmBytesPerSecond: 4.8e12 };
    const cpu = measured('cpu.json');
    const shape = { ...cpu.runs[0], model_name: 'llama-ish', model: { ...cpu.runs[0].model, hidden_size: 4096, intermediate_size: 14336, num_layers: 32, num_heads: 32, num_kv_heads: 8, vocab_size: 128256 } };
    const truth = { ...calibration, gpuTypes: { h200: { memoryBytes: 141e9, ...gpu } }, models: { 'llama-ish': modelConfigOfRun(shape, 2) } };
    const prior = new ThroughputModel(truth);
    const runs = [1, 2, 4].flatMap((jobs) =>
      [512, 2048].map((len) => ({ ...shape, jobs, seq_len: len, fused_tokens: jobs * len, step_seconds: prior.stepSeconds('h200', 'llama-ish', jobs * len, jobs) })),
    );
    const gpuRuns: EngineRuns = { ...cpu, backend: 'cuda', activation_dtype_bytes: 2, weight_dtype_bytes: 2, runs };

    const [fit] = fitStepTimes(gpuRuns);
    const sut = throughputPriorFromFit(fit, gpuRuns, gpu, calibration);

    expect(sut.mfu).toBeCloseTo(calibration.throughput.mfu, 6);
    expect(sut.saturationTokens).toBeCloseTo(calibration.throughput.saturationTokens, 3);
    expect(sut.perJobSeconds).toBeCloseTo(calibration.throughput.perJobSeconds, 9);
  });
});
