import type { Hyperparameters } from '@grove/contracts';
import type { ModelSummary } from '../models/model-config';
import type { JobDemand } from './placement';

/** (input, output) widths of each LoRA-able projection. */
function projectionShape(s: ModelSummary, module: string): [number, number] {
  const q = s.attentionHeads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  switch (module) {
    case 'q_proj': return [s.hiddenSize, q];
    case 'k_proj':
    case 'v_proj': return [s.hiddenSize, kv];
    case 'o_proj': return [q, s.hiddenSize];
    case 'gate_proj':
    case 'up_proj': return [s.hiddenSize, s.intermediateSize];
    default: return [s.intermediateSize, s.hiddenSize];
  }
}

/** Activation elements kept per token per layer (norms, q/k/v/o, MLP in/out and gate products), a rough count. */
const HIDDEN_ACTIVATIONS_PER_LAYER = 12;
const INTERMEDIATE_ACTIVATIONS_PER_LAYER = 4;

/** The memory a job asks of a GPU, for placement (docs/architecture.md: the scheduler library refines this). */
export function jobDemand(modelName: string, s: ModelSummary, h: Hyperparameters): JobDemand {
  const loraParams = h.lora.target_modules.reduce((sum, m) => {
    const [inW, outW] = projectionShape(s, m);
    return sum + h.lora.r * (inW + outW);
  }, 0) * s.layers;
  const tokens = h.micro_batch_size * h.max_seq_len;
  const perToken = s.layers * (HIDDEN_ACTIVATIONS_PER_LAYER * s.hiddenSize + INTERMEDIATE_ACTIVATIONS_PER_LAYER * s.intermediateSize) + s.vocabSize;
  return { modelName, baseParams: s.parameters, loraParams, activationElements: tokens * perToken };
}
