"""The contract's unshuffled data order: micro-batches are consecutive runs of `micro_batch_size` examples taken
from one endless pass over the file (wrapping to example 0 at its end); an optimizer step uses `grad_accum` of them."""
from __future__ import annotations


def micro_batch(index: int, micro_batch_size: int, n_examples: int) -> list[int]:
    """Example indices of the micro-batch with global (0-based) number `index`."""
    start = index * micro_batch_size
    return [(start + j) % n_examples for j in range(micro_batch_size)]


def step_examples(step: int, micro_batch_size: int, grad_accum: int, n_examples: int) -> list[int]:
    """Example indices used by optimizer step `step` (0-based), micro-batches in order."""
    out: list[int] = []
    for m in range(grad_accum):
        out.extend(micro_batch(step * grad_accum + m, micro_batch_size, n_examples))
    return out
