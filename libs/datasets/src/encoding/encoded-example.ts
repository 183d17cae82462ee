import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';

/** One tokenized example: `mask[i]` is 1 when token i is a target the loss is computed on. */
export interface EncodedExample {
  ids: number[];
  mask: number[];
}

/** Encoding either succeeds or names why the example cannot be encoded (reported against its line). */
export type EncodeResult = { encoded: EncodedExample } | { reason: string };

/** A piece of an example: text to tokenize or ready token ids, and whether it is a target. */
export interface Segment {
  text?: string;
  ids?: readonly number[];
  target: boolean;
}

/**
 * Tokenizes each segment on its own and concatenates them, so the mask boundary is exact.
 * Encoding the prompt separately is also what happens at inference (the prompt is tokenized, then the
 * model generates), so the training tokens match what the model will see.
 * Then: a doubled leading BOS or trailing EOS (a text that itself starts with the BOS string or ends
 * with the EOS string) is collapsed, the first token is never a target (the token file's rule), and
 * trailing non-target tokens are cut because they cost compute and teach nothing.
 */
export function encodeSegments(tokenizer: DatasetTokenizer, segments: readonly Segment[]): EncodedExample {
  const ids: number[] = [];
  const mask: number[] = [];
  for (const segment of segments) {
    const segmentIds = segment.ids ?? tokenizer.encode(segment.text ?? '');
    for (const id of segmentIds) {
      ids.push(id);
      mask.push(segment.target ? 1 : 0);
    }
  }
  const bos = tokenizer.bosId;
  if (bos !== undefined && ids.length >= 2 && ids[0] === bos && ids[1] === bos) {
    ids.shift();
    mask.shift();
  }
  const last = ids.length - 1;
  if (last >= 1 && ids[last] === tokenizer.eosId && ids[last - 1] === tokenizer.eosId) {
    ids.pop();
    mask.pop();
  }
  if (mask.length > 0) mask[0] = 0;
  return trimTrailingNonTargets({ ids, mask });
}

export function trimTrailingNonTargets(example: EncodedExample): EncodedExample {
  let end = example.mask.length;
  while (end > 0 && example.mask[end - 1] === 0) end -= 1;
  if (end === example.mask.length) return example;
  return { ids: example.ids.slice(0, end), mask: example.mask.slice(0, end) };
}

export function countTargets(example: EncodedExample): number {
  let targets = 0;
  for (const bit of example.mask) targets += bit;
  return targets;
}
