import { NSTokenizerConfig, NSTokenizerJSON, TokenizerLoader, tokenizers } from '@lenml/tokenizers';
import { DatasetError } from '../dataset.error';
import { ChatMessage } from '../jsonl/example';

/** The model's uploaded Hugging Face tokenizer files, already parsed from JSON. */
export interface TokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
}

type HfTokenizer = tokenizers.PreTrainedTokenizer;

/**
 * The base model's real tokenizer, reduced to what dataset encoding needs.
 * Wraps @lenml/tokenizers (a port of transformers.js) so the rest of the library never sees its API.
 */
export class DatasetTokenizer {
  /** Tokens that start every non-chat example: the model's BOS, exactly once (see `startIdsOf`). */
  readonly startIds: readonly number[];
  /** The end-of-sequence token appended after every completion. */
  readonly eosId: number;
  readonly bosId: number | undefined;
  /** Strings of the special tokens, longest first, for matching inside rendered templates. */
  readonly specialTokens: readonly string[];

  private constructor(private readonly hf: HfTokenizer) {
    const eosId = hf.eos_token_id;
    if (eosId === undefined) {
      throw new DatasetError('invalid_tokenizer', 'tokenizer_config.json names no eos_token that exists in the vocabulary');
    }
    this.eosId = eosId;
    this.bosId = hf.bos_token_id;
    this.startIds = startIdsOf(hf);
    this.specialTokens = [...hf.special_tokens].sort((a, b) => b.length - a.length);
  }

  /** Builds the tokenizer; throws `invalid_tokenizer` when the files cannot describe one. */
  static load(files: TokenizerFiles): DatasetTokenizer {
    if (!isObject(files.tokenizerJson)) throw new DatasetError('invalid_tokenizer', 'tokenizer.json must be a JSON object');
    if (!isObject(files.tokenizerConfig)) {
      throw new DatasetError('invalid_tokenizer', 'tokenizer_config.json must be a JSON object');
    }
    try {
      const hf = TokenizerLoader.fromPreTrained({
        tokenizerJSON: files.tokenizerJson as Partial<NSTokenizerJSON.Root>,
        tokenizerConfig: files.tokenizerConfig as Partial<NSTokenizerConfig.Root>,
      });
      return new DatasetTokenizer(hf);
    } catch (error) {
      if (error instanceof DatasetError) throw error;
      throw new DatasetError('invalid_tokenizer', `could not load the tokenizer: ${messageOf(error)}`);
    }
  }

  /** True when tokenizer_config.json carries a chat template. */
  get hasChatTemplate(): boolean {
    return Boolean(this.hf.chat_template);
  }

  /**
   * Token ids of `text` with no special tokens added around it. Special-token strings inside the text
   * (such as `<|eot_id|>`) become their special tokens, as in Hugging Face's default; chat templates
   * rely on this.
   */
  encode(text: string): number[] {
    if (text === '') return [];
    return this.hf.encode(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** Renders a conversation with the model's chat template, as text (no generation prompt). */
  renderChat(messages: readonly ChatMessage[]): string {
    return this.hf.apply_chat_template(
      messages.map((message) => ({ role: message.role, content: message.content })),
      { tokenize: false, add_generation_prompt: false },
    ) as string;
  }
}

/**
 * The model's start-of-sequence tokens. When the tokenizer's own post-processor adds special tokens
 * in front of a text (newer Llama 3 and Mistral files do), those are used as they are. Otherwise the
 * configured bos_token is added unless `add_bos_token` is explicitly false: the original Llama 3
 * tokenizer.json adds nothing although the model was trained with BOS. Either way BOS appears once.
 */
function startIdsOf(hf: HfTokenizer): number[] {
  const probe = 'a';
  const plain = hf.encode(probe, { add_special_tokens: false });
  const withSpecials = hf.encode(probe, { add_special_tokens: true });
  const at = indexOfRun(withSpecials, plain);
  if (at > 0) return withSpecials.slice(0, at);
  const addBos = (hf.config as { add_bos_token?: boolean }).add_bos_token;
  return hf.bos_token_id !== undefined && addBos !== false ? [hf.bos_token_id] : [];
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    for (let j = 0; j < needle.length; j += 1) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
