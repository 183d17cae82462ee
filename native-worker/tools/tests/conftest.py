import os
import sys

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOOLS)

CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|eot|>\n{% endfor %}"
CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "### Instruction:\n### Input:\n### Response:\nBelow is an instruction that describes a task",
    "hello world, how are you? fine thanks. 0123456789",
]


def _build_tokenizer(folder: str, chat_template):
    """A small byte-level BPE (every string encodes) that adds <s> in front like Llama tokenizers do."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>", "<|eot|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   additional_special_tokens=["<|eot|>"])
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    return _build_tokenizer(str(tmp_path_factory.mktemp("tok-chat")), CHAT_TEMPLATE)


@pytest.fixture(scope="session")
def plain_tokenizer_json(tmp_path_factory):
    folder = _build_tokenizer(str(tmp_path_factory.mktemp("tok-plain")), None)
    return os.path.join(folder, "tokenizer.json")
