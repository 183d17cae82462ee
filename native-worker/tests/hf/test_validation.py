"""The reference's early stopping is libs/scheduler's checkEarlyStopping (its spec's cases), and evaluations fall on
every eval_every-th step and the last."""
import math

from spec import ValidationSpec
from validation import EarlyStopping, evaluation_due


def stop_at(losses, patience, min_delta):
    rule = EarlyStopping(ValidationSpec(tokens="/v", eval_every=1, patience=patience, min_delta=min_delta))
    for i, loss in enumerate(losses):
        rule.observe(i + 1, loss)
        if rule.stopped:
            return i, rule.best_step - 1
    return None, rule.best_step - 1


def test_the_scheduler_librarys_cases():
    assert stop_at([2.0, 1.5, 1.2, 1.19, 1.195, 1.18], 3, 0.05) == (5, 2)
    assert stop_at([2.0, 1.8, 1.6, 1.4], 2, 0.05) == (None, 3)
    assert stop_at([1.0, math.nan, math.nan], 2, 0) == (2, 0)


def test_evaluations_fall_on_every_eval_every_th_step_and_the_last():
    assert [s for s in range(1, 8) if evaluation_due(s, 7, 3)] == [3, 6, 7]
    assert [s for s in range(1, 7) if evaluation_due(s, 6, 3)] == [3, 6]
