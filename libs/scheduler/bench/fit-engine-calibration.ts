/**
 * Fits the scheduler's coefficients to measurements of the real engine (native-worker/bench/engine_calibrate.cpp):
 *   node -r @swc-node/register libs/scheduler/bench/fit-engine-calibration.ts RUNS.json [...]
 * For each file: how the shipped memory coefficients compare with the measured peaks, and per model shape the step-time
 * fit step = fixed + perJob·k + perToken·T with the frozen-base FLOP/s it implies. The last line is a JSON summary.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { compareMemory, fitStepTimes, loadDefaultCalibration, parseEngineRuns } from '../src';

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: fit-engine-calibration.ts RUNS.json [...]   (output of grove-calibrate --out)');
    process.exit(2);
  }
  const calibration = loadDefaultCalibration();
  const summary: Record<string, object> = {};
  for (const file of files) {
    const runs = parseEngineRuns(JSON.parse(readFileSync(file, 'utf8')));
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
    };
  }
  console.log(JSON.stringify(summary));
}

const ms = (s: number, width = 10) => (s * 1e3).toFixed(3).padStart(width);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const round = (x: number) => Math.round(x * 1e4) / 1e4;

main();
