/** What the memory and throughput models need to know about one LoRA job. */
export interface JobShape {
  readonly baseModel: string;
  /** Tokens per optimizer micro-step (B·L). */
  readonly microBatchTokens: number;
  /** Sequence length L; B = microBatchTokens / seqLen. */
  readonly seqLen: number;
  readonly loraRank: number;
}
