import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Gpu } from '@grove/proto';
import type { AgentConfig } from '../config/agent-config';

/** What the agent announces when it registers. */
export interface NodeInventory {
  gpus: Gpu[];
  baseModels: string[];
  engineVersion: string;
}

/** Reported as the engine version until the engine can print its own. */
export const ENGINE_VERSION = 'grove-engine/0.1.0';

export class InventoryError extends Error {
  readonly code = 'node_inventory';
}

/** `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits` (memory in MiB) → GPUs. */
export function parseNvidiaSmi(csv: string): Gpu[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, name, mib] = line.split(',').map((f) => f.trim());
      if (!/^\d+$/.test(index ?? '') || !name || !/^\d+$/.test(mib ?? '')) throw new InventoryError(`unexpected nvidia-smi line: ${line}`);
      return { index: Number(index), name, totalMemoryBytes: Number(mib) * 2 ** 20 };
    });
}

/** A CPU node offers configured slots, each with its memory budget. */
export function cpuSlots(count: number, memoryBytes: number): Gpu[] {
  return Array.from({ length: count }, (_, index) => ({ index, name: `cpu-slot-${index}`, totalMemoryBytes: memoryBytes }));
}

async function cudaGpus(): Promise<Gpu[]> {
  try {
    const { stdout } = await promisify(execFile)('nvidia-smi', ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits']);
    return parseNvidiaSmi(stdout);
  } catch (e) {
    throw new InventoryError(`GROVE_BACKEND=cuda but the GPUs could not be listed: ${(e as Error).message}`);
  }
}

/** Folders `<models dir>/<org--name>` holding config.json and safetensors weights, as model names (`org/name`). */
export async function discoverBaseModels(modelsDir: string): Promise<string[]> {
  if (!existsSync(modelsDir)) throw new InventoryError(`GROVE_MODELS_DIR ${modelsDir} does not exist`);
  const names: string[] = [];
  for (const entry of await readdir(modelsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(modelsDir, entry.name);
    const files = await readdir(dir);
    if (files.includes('config.json') && files.some((f) => f.endsWith('.safetensors') || f === 'model.safetensors.index.json')) {
      names.push(entry.name.replaceAll('--', '/'));
    }
  }
  return names.sort();
}

export async function takeInventory(config: AgentConfig): Promise<NodeInventory> {
  const gpus = config.backend === 'cuda' ? await cudaGpus() : cpuSlots(config.cpuSlots.count, config.cpuSlots.memoryBytes);
  if (gpus.length === 0) throw new InventoryError('the node has no GPUs to offer');
  return { gpus, baseModels: await discoverBaseModels(config.modelsDir), engineVersion: ENGINE_VERSION };
}
