/**
 * The Stanford Alpaca prompt, used for {"instruction","input"?,"output"} examples. The model learns
 * to write `output` + EOS after "### Response:\n". Kept byte-for-byte as published so adapters trained
 * here work with the many tools that already speak it.
 */
export function alpacaPrompt(instruction: string, input: string | undefined): string {
  if (input === undefined) {
    return (
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
      `### Instruction:\n${instruction}\n\n### Response:\n`
    );
  }
  return (
    'Below is an instruction that describes a task, paired with an input that provides further context. ' +
    'Write a response that appropriately completes the request.\n\n' +
    `### Instruction:\n${instruction}\n\n### Input:\n${input}\n\n### Response:\n`
  );
}
