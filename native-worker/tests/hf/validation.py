"""The contract's validation loss and early stopping (native-worker/docs/spec.md, "Validation"), for the reference.

The validation loss is (sum of token cross-entropy over every target position of the validation set) / (number of
those positions), with the adapter as it is, no gradient. It is evaluated after every `eval_every`-th optimizer step
and after the last. Early stopping is libs/scheduler's checkEarlyStopping: an evaluation improves when its loss is
finite and below best - min_delta; `patience` evaluations in a row without improvement stop the job, whose adapter is
then the one of the best evaluation."""
from __future__ import annotations

import math

import torch

from gtok import Example
from spec import ValidationSpec
from step_loss import count_targets, example_logits, target_ce_sum


def validation_loss(model: torch.nn.Module, examples: list[Example]) -> float:
    with torch.no_grad():
        total = sum(float(target_ce_sum(example_logits(model, e), e)) for e in examples)
    return total / count_targets(examples)


def evaluation_due(step: int, steps: int, eval_every: int) -> bool:
    """After 1-based optimizer step `step`."""
    return step % eval_every == 0 or step == steps


class EarlyStopping:
    def __init__(self, spec: ValidationSpec):
        self.spec = spec
        self.best = math.inf
        self.best_step = 0
        self.stale = 0
        self.stopped = False

    def observe(self, step: int, loss: float) -> bool:
        """Records the evaluation after `step`; True when it improved on the best."""
        if math.isfinite(loss) and loss < self.best - self.spec.min_delta:
            self.best, self.best_step, self.stale = loss, step, 0
            return True
        self.stale += 1
        if self.spec.patience > 0 and self.stale >= self.spec.patience:
            self.stopped = True
        return False
