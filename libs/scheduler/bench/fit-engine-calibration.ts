/**
 * Fits the scheduler's coefficients to measurements of the real engine (native-worker/bench/engine_calibrate.cpp):
 *   node -r @swc-node/register libs/scheduler/bench/fit-engine-calibration.ts RUNS.json [...]
 *        [--peak-flops F --hbm-bytes-per-second B]     (the GPU's datasheet figures, for GPU runs)
 * For each file: how the shipped memory coefficients compare with the measured peaks, and per model shape the step-time
 * fit step = fixed + perJob·k + perToken·T with the frozen-base FLOP/s it implies; given the GPU's figures, also the
 * throughput prior's MFU, saturation tokens and per-job seconds that reproduce each fit (to write into the
 * calibration file). The last line is a JSON summary.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { compareMemory, fitStepTimes, loadDefaultCalibration, parseEngineRuns, throughputPriorFromFit, type MeasuredGpu } from '../src';

const USAGE = 'usage: fit-engine-calibration.ts RUNS.json [...] [--peak-flops F --hbm-bytes-per-second B]';

function measuredGpu(values: { 'peak-flops'?: string; 'hbm-bytes-per-second'?: string }): MeasuredGpu | undefined {
  const peak = values['peak-flops'];
  const hbm = values['hbm-bytes-per-second'];
  if (peak === undefined && hbm === undefined) return undefined;
  const gpu = { peakFlops: Number(peak), hbmBytesPerSecond: Number(hbm) };
  if (!(gpu.peakFlops > 0) || !(gpu.hbmBytesPerSecond > 0)) {
    console.error(`--peak-flops and --hbm-bytes-per-second go together, as positive numbers (e.g. 989e12 4.8e12)\n${USAGE}`);
    process.exit(2);
  }
  return gpu;
}

function readRuns(file: string) {
  try {
    return parseEngineRuns(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    console.error(`fit-engine-calibration: ${file}: ${(e as Error).message}`);
    process.exit(2);
  }
}

function main(): void {
  const { values, positionals: files } = parseArgs({
    allowPositionals: true,
    options: { 'peak-flops': { type: 'string' }, 'hbm-bytes-per-second': { type: 'string' } },
  });
  if (files.length === 0) {
    console.error(`${USAGE}\n  RUNS.json: the output of grove-calibrate --out`);
    process.exit(2);
  }
  const gpu = measuredGpu(values);
  const calibration = loadDefaultCalibration();
  const summary: Record<string, object> = {};
  for (const file of files) {
    const runs = readRuns(file);
    const memory = compareMemory(calibration, runs);
    const steps = fitStepTimes(runs);
    console.log(`\n${basename(file)}: backend ${runs.backend}, ${runs.runs.length} runs, activations ${runs.activation_dtype_bytes} B/element`);
    console.log(`memory (activations + LoRA state): predicted − measured from ${pct(memory.worstUnder)} to ${pct(memory.worstOver)}`);
    console.log('model         runs   fixed_ms  per_job_ms  per_1k_tok_ms     r2   base GFLOP/s');
    for (const f of steps) {
      console.log(
        `${f.modelName.padEnd(12)} ${String(f.runs).padStart(5)} ${ms(f.fixedSeconds)} ${ms(f.perJobSeconds, 11)} ${ms(f.perTokenSeconds * 1e3, 14)}` +
          ` ${f.r2.toFixed(3).padStart(6)} ${(f.effectiveFlops / 1e9).toFixed(1).padStart(14)}`,
      );
    }
    const priors = gpu ? steps.map((f) => throughputPriorFromFit(f, runs, gpu, calibration)) : [];
    for (const p of priors) {
      console.log(`${p.modelName}: throughput prior mfu ${p.mfu.toFixed(3)}, saturationTokens ${Math.round(p.saturationTokens)}, perJobSeconds ${p.perJobSeconds.toFixed(4)}`);
    }
    summary[basename(file)] = {
      backend: runs.backend,
      memory_worst_over: round(memory.worstOver),
      memory_worst_under: round(memory.worstUnder),
      step_fits: steps.map((f) => ({
        model: f.modelName,
        fixed_s: f.fixedSeconds,
        per_job_s: f.perJobSeconds,
        per_token_s: f.perTokenSeconds,
        r2: round(f.r2),
        base_flops: Math.round(f.effectiveFlops),
      })),
      throughput_priors: priors.map((p) => ({ model: p.modelName, mfu: p.mfu, saturation_tokens: p.saturationTokens, per_job_s: p.perJobSeconds })),
    };
  }
  console.log(JSON.stringify(summary));
}

const ms = (s: number, width = 10) => (s * 1e3).toFixed(3).padStart(width);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const round = (x: number) => Math.round(x * 1e4) / 1e4;

main();
