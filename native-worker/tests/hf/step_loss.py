"""The contract's step loss, computed by hand from HF logits: (sum of token cross-entropy over all target positions
of the step's examples) / (number of those positions). The position predicting token t+1 is a target iff
mask[t+1] = 1. Each example runs as its own sequence, so positions restart at 0 and attention never crosses them."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtok import Example


def count_targets(examples: list[Example]) -> int:
    return int(sum(int(e.mask[1:].sum()) for e in examples))


def example_logits(model: torch.nn.Module, example: Example) -> torch.Tensor:
    input_ids = torch.as_tensor(example.tokens.astype("int64")).unsqueeze(0)
    return model(input_ids=input_ids).logits[0]


def target_ce_sum(logits: torch.Tensor, example: Example) -> torch.Tensor:
    """Sum of cross-entropy over the example's target positions (in the logits' dtype)."""
    tokens = torch.as_tensor(example.tokens.astype("int64"))
    is_target = torch.as_tensor(example.mask[1:].astype(bool))
    ce = F.cross_entropy(logits[:-1], tokens[1:], reduction="none")
    return ce[is_target].sum()


def step_forward_backward(model: torch.nn.Module, examples: list[Example]) -> tuple[float, list[torch.Tensor], int]:
    """Forward + backward of one optimizer step's loss, one example at a time (gradients accumulate into .grad).
    Returns the step loss, each example's detached logits and the number of target positions."""
    n_targets = count_targets(examples)
    if n_targets == 0:
        raise ValueError("the step's examples hold no target token")
    total = 0.0
    logits_out = []
    for example in examples:
        logits = example_logits(model, example)
        ce_sum = target_ce_sum(logits, example)
        (ce_sum / n_targets).backward()
        total += float(ce_sum.detach())
        logits_out.append(logits.detach())
    return total / n_targets, logits_out, n_targets


def hf_labels_loss(model: torch.nn.Module, example: Example) -> float:
    """HF's own causal-LM loss for one example (labels = tokens, prompt positions ignored with -100)."""
    input_ids = torch.as_tensor(example.tokens.astype("int64")).unsqueeze(0)
    labels = input_ids.clone()
    labels[0, torch.as_tensor(example.mask == 0)] = -100
    with torch.no_grad():
        return float(model(input_ids=input_ids, labels=labels).loss)
