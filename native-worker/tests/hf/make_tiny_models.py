"""Creates the tiny random-weight models, PEFT adapters and token files the HF cross-check runs on.

    make_tiny_models.py OUT

OUT/models/<name>/                 a transformers-saved model (config.json + fp32 model.safetensors; llama_bf16:
                                   bf16 weights in shards with model.safetensors.index.json)
OUT/adapters/<name>/<adapter>/     a PEFT-saved adapter (adapter_config.json + adapter_model.safetensors), B non-zero
OUT/data/<set>.gtok                token files with prompt/completion masks and varied lengths

Everything is seeded, so two runs write identical files. Weights are redrawn at unit scale (HF's default init of
std 0.02 makes the logits nearly uniform, which would hide errors in the cross-check), norms and biases are made
non-trivial for the same reason.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import Optional

import numpy as np
import quiet_hf  # noqa: F401
import torch
from peft import LoraConfig, get_peft_model
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    MistralConfig,
    PretrainedConfig,
    Qwen2Config,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from gtok import write_gtok  # noqa: E402

ALL_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
DATA_VOCAB = 256  # token ids in the data stay below every model's vocab size


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    r: int
    alpha: float
    targets: list[str]
    use_rslora: bool = False


@dataclass(frozen=True)
class ModelSpec:
    name: str
    config: PretrainedConfig
    adapters: list[AdapterSpec]
    seed: int
    hub_style_rope: bool = False
    save_dtype: torch.dtype = torch.float32
    max_shard_size: Optional[str] = None


_SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, rms_norm_eps=1e-5)

LLAMA3_ROPE = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}


def model_specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            "llama",
            LlamaConfig(**_SMALL, num_key_value_heads=4, vocab_size=256, rope_theta=10000.0,
                        tie_word_embeddings=False),
            [AdapterSpec("all", 8, 16, ALL_TARGETS), AdapterSpec("qv", 4, 32, ["q_proj", "v_proj"])],
            seed=11,
        ),
        ModelSpec(
            "llama3",
            LlamaConfig(**_SMALL, num_key_value_heads=2, vocab_size=320, rope_theta=500000.0,
                        rope_scaling=dict(LLAMA3_ROPE), max_position_embeddings=131072, tie_word_embeddings=True),
            [AdapterSpec("attn", 8, 8, ["q_proj", "k_proj", "v_proj", "o_proj"]),
             AdapterSpec("mlp", 2, 4, ["gate_proj", "up_proj", "down_proj"], use_rslora=True)],
            seed=12,
            hub_style_rope=True,
        ),
        ModelSpec(
            "mistral",
            MistralConfig(**_SMALL, num_key_value_heads=2, vocab_size=288, rope_theta=10000.0, sliding_window=4096,
                          tie_word_embeddings=False),
            [AdapterSpec("all", 4, 8, ALL_TARGETS, use_rslora=True),
             AdapterSpec("kod", 6, 12, ["k_proj", "o_proj", "down_proj"])],
            seed=13,
        ),
        ModelSpec(
            "qwen2",
            Qwen2Config(**_SMALL, num_key_value_heads=2, vocab_size=384, rope_theta=1000000.0,
                        tie_word_embeddings=False, use_sliding_window=False),
            [AdapterSpec("all", 8, 16, ALL_TARGETS), AdapterSpec("qvu", 4, 4, ["q_proj", "v_proj", "up_proj"])],
            seed=14,
        ),
        # bf16 weights in several shards (model.safetensors.index.json), as most hub checkpoints ship. HF upcasts the
        # bf16 values exactly, so the reference is as exact as for the fp32 models.
        ModelSpec(
            "llama_bf16",
            LlamaConfig(**_SMALL, num_key_value_heads=2, vocab_size=272, rope_theta=10000.0,
                        tie_word_embeddings=False),
            [AdapterSpec("all", 4, 8, ALL_TARGETS), AdapterSpec("ov", 8, 8, ["o_proj", "v_proj"], use_rslora=True)],
            seed=15,
            save_dtype=torch.bfloat16,
            max_shard_size="100KB",
        ),
    ]


def randomize_weights(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Unit-scale weights: O(1) activations and logits far from uniform, so mistakes change the numbers visibly."""
    # Tied models share one tensor, listed once by named_parameters.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name or "lm_head" in name:
                # std 2/sqrt(hidden): logits of std ~2 whether or not the output layer is tied to the embedding.
                p.copy_(2.0 * torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))


def rewrite_rope_hub_style(model_dir: str) -> None:
    """Real Llama-3 checkpoints carry `rope_theta` + `rope_scaling`; transformers 5 writes `rope_parameters` instead.
    Saving one model the hub way makes the engine handle both spellings (transformers still loads this one)."""
    path = os.path.join(model_dir, "config.json")
    with open(path) as f:
        config = json.load(f)
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    config["rope_scaling"] = rope
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def save_model(spec: ModelSpec, out: str) -> str:
    torch.manual_seed(spec.seed)
    model = AutoModelForCausalLM.from_config(spec.config, dtype=torch.float32)
    gen = torch.Generator().manual_seed(spec.seed)
    randomize_weights(model, gen)
    model_dir = os.path.join(out, "models", spec.name)
    model.to(spec.save_dtype)
    shards = {"max_shard_size": spec.max_shard_size} if spec.max_shard_size else {}
    model.save_pretrained(model_dir, safe_serialization=True, **shards)
    if spec.hub_style_rope:
        rewrite_rope_hub_style(model_dir)
    return model_dir


def save_adapter(model_dir: str, adapter: AdapterSpec, seed: int, out_dir: str) -> None:
    """A PEFT adapter with random A and non-zero random B (B = 0 would make every gradient of A vanish)."""
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = LoraConfig(r=adapter.r, lora_alpha=adapter.alpha, lora_dropout=0.0, target_modules=adapter.targets,
                        use_rslora=adapter.use_rslora, bias="none", task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
            elif "lora_B" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
    peft_model.save_pretrained(out_dir)


def make_examples(seed: int, count: int, min_len: int, max_len: int) -> list[tuple[list[int], list[int]]]:
    """Prompt/completion examples; every third one has two completion spans (a multi-turn chat's shape)."""
    rng = np.random.default_rng(seed)
    examples = []
    for i in range(count):
        n = int(rng.integers(min_len, max_len + 1))
        tokens = rng.integers(0, DATA_VOCAB, size=n).tolist()
        prompt = int(rng.integers(1, max(2, n // 2)))
        mask = [0] * prompt + [1] * (n - prompt)
        if i % 3 == 2 and n - prompt >= 4:
            gap = prompt + (n - prompt) // 2
            mask[gap : gap + 2] = [0, 0]
        examples.append((tokens, mask))
    return examples


DATA_SETS = {
    # name: (seed, examples, shortest, longest)
    "a": (101, 9, 5, 40),
    "b": (102, 7, 5, 24),
    "c": (103, 5, 16, 40),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output folder")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny tensors: more threads only spin on a shared machine
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)
    for spec in model_specs():
        model_dir = save_model(spec, args.out)
        for i, adapter in enumerate(spec.adapters):
            save_adapter(model_dir, adapter, spec.seed * 100 + i,
                         os.path.join(args.out, "adapters", spec.name, adapter.name))
    for name, (seed, count, lo, hi) in DATA_SETS.items():
        write_gtok(os.path.join(args.out, "data", f"{name}.gtok"), make_examples(seed, count, lo, hi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
