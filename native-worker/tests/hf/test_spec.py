import copy
import json

import pytest

from spec import SpecError, load_spec

JOB = {
    "id": "a", "tokens": "/d.gtok", "init_adapter": "/ad",
    "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj"], "use_rslora": False},
    "optimizer": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "max_grad_norm": 1.0},
    "schedule": {"type": "cosine", "warmup_steps": 2},
    "steps": 5, "micro_batch_size": 2, "grad_accum": 1, "shuffle": False, "seed": 0, "output_dir": "/o",
}


def write(tmp_path, jobs, model="/m"):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"model": model, "threads": 2, "jobs": jobs}))
    return str(path)


def mutated(path, value):
    job = copy.deepcopy(JOB)
    target = job
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return job


def test_the_contract_example_loads(tmp_path):
    spec = load_spec(write(tmp_path, [JOB]))
    job = spec.jobs[0]
    assert (spec.model, job.lora.r, job.lora.alpha, job.optimizer.betas, job.schedule_type, job.warmup_steps) == (
        "/m", 8, 16.0, (0.9, 0.999), "cosine", 2)


@pytest.mark.parametrize("path, value, message", [
    (["steps"], KeyError, "jobs\\[0\\]: missing field 'steps'"),
    (["lora", "r"], "8", "jobs\\[0\\].lora.r: expected"),
    (["micro_batch_size"], True, "got a boolean"),
    (["lora", "dropout"], 0.1, "dropout 0"),
    (["schedule", "type"], "step", "unknown schedule 'step'"),
    (["shuffle"], True, "unshuffled"),
    (["grad_accum"], 0, "grad_accum: must be >= 1"),
])
def test_bad_fields_are_named(tmp_path, path, value, message):
    with pytest.raises(SpecError, match=message):
        load_spec(write(tmp_path, [mutated(path, value)]))


def test_repeated_job_ids_are_refused(tmp_path):
    with pytest.raises(SpecError, match="repeat"):
        load_spec(write(tmp_path, [JOB, JOB]))


def test_validation_defaults_to_about_ten_evaluations(tmp_path):
    job = dict(JOB, steps=25, validation={"tokens": "/v.gtok"})
    validation = load_spec(write(tmp_path, [job])).jobs[0].validation
    assert (validation.tokens, validation.eval_every, validation.patience, validation.min_delta) == ("/v.gtok", 3, 0, 0.0)
    assert load_spec(write(tmp_path, [dict(JOB, steps=4, validation={"tokens": "/v"})])).jobs[0].validation.eval_every == 1
    assert load_spec(write(tmp_path, [JOB])).jobs[0].validation is None


@pytest.mark.parametrize("validation, message", [
    ({"eval_every": 2}, "validation: missing field 'tokens'"),
    ({"tokens": "/v", "eval_every": 0}, "eval_every: must be >= 1"),
    ({"tokens": "/v", "early_stopping": {"min_delta": 0.1}}, "missing field 'patience'"),
    ({"tokens": "/v", "early_stopping": {"patience": 2, "min_delta": -1}}, "min_delta: must be >= 0"),
])
def test_bad_validation_fields_are_named(tmp_path, validation, message):
    with pytest.raises(SpecError, match=message):
        load_spec(write(tmp_path, [dict(JOB, validation=validation)]))
