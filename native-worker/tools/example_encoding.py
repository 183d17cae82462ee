"""Turns a parsed example into (token ids, loss mask) with the same rules as the control plane's encoder
(libs/datasets/src/encoding/), so token files made here for tests and demos match the real ones:
  prompt/completion: BOS + prompt + [completion + EOS]
  instruction:       BOS + Alpaca prompt + [output + EOS]
  messages:          the chat template with [assistant content + end-of-turn token] as targets, or a plain
                     "### Role:" layout when the tokenizer has no chat template
  text:              BOS + [text + EOS]
(brackets mark targets). Each piece is tokenized on its own so the mask boundary is exact; a doubled leading BOS or
trailing EOS (text that itself starts with the BOS string or ends with the EOS string) is collapsed, the first token
is never a target and trailing non-target tokens are cut.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional, Sequence

# No letters, so templates that change case leave it intact.
SENTINEL = "@@0271828182845904523@@"
PLAIN_HEADERS = {"system": "### System:\n", "user": "### User:\n", "assistant": "### Assistant:\n"}
TURN_SEPARATOR = "\n\n"


class EncodingError(ValueError):
    """This example cannot be encoded; the message says why."""


class TokenizerError(ValueError):
    """The tokenizer files cannot be used; the message says why."""


@dataclass(frozen=True)
class Segment:
    target: bool
    text: Optional[str] = None
    ids: Optional[Sequence[int]] = None


def alpaca_prompt(instruction: str, text_input: Optional[str]) -> str:
    """The Stanford Alpaca prompt, byte-for-byte as published (and as libs/datasets writes it)."""
    if text_input is None:
        return ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                f"request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")
    return ("Below is an instruction that describes a task, paired with an input that provides further context. "
            "Write a response that appropriately completes the request.\n\n"
            f"### Instruction:\n{instruction}\n\n### Input:\n{text_input}\n\n### Response:\n")


class DatasetTokenizer:
    """A Hugging Face tokenizer reduced to what encoding needs."""

    def __init__(self, path: str):
        from transformers import AutoTokenizer, PreTrainedTokenizerFast
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # advisory warnings about decoding options would drown the per-line errors
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        # A tokenizer.json alone lacks the special-token roles and chat template of tokenizer_config.json.
        beside = os.path.join(folder, "tokenizer_config.json")
        try:
            self.config = {}
            if os.path.isfile(beside):
                with open(beside, encoding="utf-8") as f:
                    self.config = json.load(f)
            if os.path.isdir(path) or (os.path.isfile(path) and self.config):
                hf = AutoTokenizer.from_pretrained(folder)
            elif os.path.isfile(path):
                hf = PreTrainedTokenizerFast(tokenizer_file=path)
            else:
                raise TokenizerError(f"{path}: no such tokenizer folder or tokenizer.json")
        except TokenizerError:
            raise
        except Exception as e:  # transformers raises many types for unusable files
            raise TokenizerError(f"{path}: could not load the tokenizer: {e}") from e
        if hf.eos_token_id is None:
            raise TokenizerError(f"{path}: the tokenizer names no eos_token (is tokenizer_config.json missing?)")
        self.hf = hf
        self.eos_id: int = hf.eos_token_id
        self.bos_id: Optional[int] = hf.bos_token_id
        self.start_ids = self._start_ids()
        special = [t.content for t in hf.added_tokens_decoder.values() if t.special]
        self.special_tokens = sorted(set(special), key=len, reverse=True)

    def _start_ids(self) -> list[int]:
        """BOS exactly once: what the post-processor puts in front of a text, else bos_token unless
        add_bos_token is explicitly false."""
        plain = self.hf.encode("a", add_special_tokens=False)
        with_specials = self.hf.encode("a", add_special_tokens=True)
        for at in range(1, len(with_specials) - len(plain) + 1):
            if with_specials[at : at + len(plain)] == plain:
                return with_specials[:at]
        # Read from the file, as libs/datasets does: transformers fills in its own default when the key is absent.
        add_bos = self.config.get("add_bos_token")
        return [self.bos_id] if self.bos_id is not None and add_bos is not False else []

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.hf, "chat_template", None))

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False) if text else []

    def render_chat(self, messages: Sequence[dict]) -> str:
        return self.hf.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=False)


def _end_of_turn_length(text: str, special_tokens: Sequence[str]) -> int:
    spaces = len(text) - len(text.lstrip(" \t"))
    for token in special_tokens:
        if text.startswith(token, spaces):
            return spaces + len(token)
    return 0


def chat_template_segments(tok: DatasetTokenizer, messages: Sequence[dict]) -> list[Segment]:
    """Splits the rendered conversation into prompt and target text by rendering a sentinel in each assistant
    turn; templates that render an earlier turn differently once later turns follow are refused."""
    try:
        full = tok.render_chat(messages)
        segments: list[Segment] = []
        cursor = 0
        for k, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            probe = tok.render_chat([*messages[:k], {"role": "assistant", "content": SENTINEL}])
            at = probe.find(SENTINEL)
            if at < 0:
                raise EncodingError(f"the chat template does not render the content of messages[{k}]")
            before, after = probe[:at], probe[at + len(SENTINEL):]
            up_to_turn = tok.render_chat(messages[: k + 1])
            content_end = len(up_to_turn) - len(after)
            if not up_to_turn.startswith(before) or not up_to_turn.endswith(after) or content_end < len(before):
                raise EncodingError(f"the chat template renders messages[{k}] in a way whose content cannot be located")
            target_end = content_end + _end_of_turn_length(after, tok.special_tokens)
            if len(before) < cursor or not full.startswith(up_to_turn[:target_end]):
                raise EncodingError(f"the chat template renders messages[{k}] differently once later messages follow")
            segments.append(Segment(False, text=full[cursor : len(before)]))
            segments.append(Segment(True, text=full[len(before) : target_end]))
            cursor = target_end
        segments.append(Segment(False, text=full[cursor:]))
        return segments
    except EncodingError:
        raise
    except Exception as e:  # jinja errors from the template itself
        raise EncodingError(f"the chat template failed to render this conversation: {e}") from e


def plain_chat_segments(tok: DatasetTokenizer, messages: Sequence[dict]) -> list[Segment]:
    segments = [Segment(False, ids=tok.start_ids)]
    for i, message in enumerate(messages):
        assistant = message["role"] == "assistant"
        if i > 0:
            segments.append(Segment(False, text=TURN_SEPARATOR))
        segments.append(Segment(False, text=PLAIN_HEADERS[message["role"]]))
        segments.append(Segment(assistant, text=message["content"]))
        if assistant:
            segments.append(Segment(True, ids=[tok.eos_id]))
    return segments


def example_segments(tok: DatasetTokenizer, fmt: str, fields: dict) -> list[Segment]:
    start = Segment(False, ids=tok.start_ids)
    eos = Segment(True, ids=[tok.eos_id])
    if fmt == "prompt_completion":
        return [start, Segment(False, text=fields["prompt"]), Segment(True, text=fields["completion"]), eos]
    if fmt == "instruction":
        prompt = alpaca_prompt(fields["instruction"], fields["input"])
        return [start, Segment(False, text=prompt), Segment(True, text=fields["output"]), eos]
    if fmt == "text":
        return [start, Segment(True, text=fields["text"]), eos]
    if tok.has_chat_template:
        return chat_template_segments(tok, fields["messages"])
    return plain_chat_segments(tok, fields["messages"])


def trim_trailing_non_targets(ids: list[int], mask: list[int]) -> tuple[list[int], list[int]]:
    end = len(mask)
    while end > 0 and mask[end - 1] == 0:
        end -= 1
    return ids[:end], mask[:end]


def encode_segments(tok: DatasetTokenizer, segments: Sequence[Segment]) -> tuple[list[int], list[int]]:
    ids: list[int] = []
    mask: list[int] = []
    for segment in segments:
        piece = list(segment.ids) if segment.ids is not None else tok.encode(segment.text or "")
        ids += piece
        mask += [1 if segment.target else 0] * len(piece)
    if tok.bos_id is not None and len(ids) >= 2 and ids[0] == tok.bos_id and ids[1] == tok.bos_id:
        ids, mask = ids[1:], mask[1:]
    if len(ids) >= 2 and ids[-1] == tok.eos_id and ids[-2] == tok.eos_id:
        ids, mask = ids[:-1], mask[:-1]
    if mask:
        mask[0] = 0
    return trim_trailing_non_targets(ids, mask)


def apply_length(ids: list[int], mask: list[int], max_seq_len: Optional[int], truncate: bool
                 ) -> tuple[list[int], list[int]]:
    """Refuses (or with `truncate` cuts to its first max_seq_len tokens) an overlong example; an example left with
    no target is refused."""
    if sum(mask) == 0:
        raise EncodingError("the example has no target token")
    if max_seq_len is None or len(ids) <= max_seq_len:
        return ids, mask
    if not truncate:
        raise EncodingError(f"{len(ids)} tokens is over --max-seq-len {max_seq_len} (pass --truncate to cut it)")
    ids, mask = trim_trailing_non_targets(ids[:max_seq_len], mask[:max_seq_len])
    if sum(mask) == 0:
        raise EncodingError(f"no target token is left in the first {max_seq_len} tokens")
    return ids, mask
