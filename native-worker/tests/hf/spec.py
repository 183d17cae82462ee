"""The part of the engine's SPEC.json (native-worker/docs/spec.md) that the HF reference needs, validated."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Optional


class SpecError(ValueError):
    """The spec is missing a field or holds a value the reference cannot reproduce; the message names it."""


@dataclass(frozen=True)
class LoraSpec:
    r: int
    alpha: float
    dropout: float
    target_modules: list[str]
    use_rslora: bool


@dataclass(frozen=True)
class OptimizerSpec:
    lr: float
    betas: tuple[float, float]
    eps: float
    weight_decay: float
    max_grad_norm: float


@dataclass(frozen=True)
class ValidationSpec:
    tokens: str
    eval_every: int
    patience: int  # 0: no early stopping
    min_delta: float


@dataclass(frozen=True)
class JobSpec:
    id: str
    tokens: str
    init_adapter: Optional[str]
    lora: LoraSpec
    optimizer: OptimizerSpec
    schedule_type: str
    warmup_steps: int
    steps: int
    micro_batch_size: int
    grad_accum: int
    shuffle: bool
    seed: int
    output_dir: Optional[str]
    validation: Optional[ValidationSpec] = None


@dataclass(frozen=True)
class Spec:
    model: str
    jobs: list[JobSpec]


def _field(obj: dict, key: str, where: str, kind: type | tuple, default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            raise SpecError(f"{where}: missing field '{key}'")
        return default
    value = obj[key]
    # bool is an int in Python; a spec that says `"steps": true` is wrong, not 1.
    if isinstance(value, bool) and kind is not bool:
        raise SpecError(f"{where}.{key}: expected {kind}, got a boolean")
    if not isinstance(value, kind):
        raise SpecError(f"{where}.{key}: expected {kind}, got {type(value).__name__}")
    return value


def _lora(obj: dict, where: str) -> LoraSpec:
    lora = LoraSpec(
        r=_field(obj, "r", where, int),
        alpha=float(_field(obj, "alpha", where, (int, float))),
        dropout=float(_field(obj, "dropout", where, (int, float), 0.0)),
        target_modules=list(_field(obj, "target_modules", where, list)),
        use_rslora=_field(obj, "use_rslora", where, bool, False),
    )
    if lora.r < 1:
        raise SpecError(f"{where}.r: must be >= 1, got {lora.r}")
    if lora.dropout != 0.0:
        raise SpecError(f"{where}.dropout: the reference only reproduces dropout 0 (random masks cannot match)")
    return lora


def _optimizer(obj: dict, where: str) -> OptimizerSpec:
    betas = _field(obj, "betas", where, list, [0.9, 0.999])
    if len(betas) != 2:
        raise SpecError(f"{where}.betas: expected two numbers")
    return OptimizerSpec(
        lr=float(_field(obj, "lr", where, (int, float))),
        betas=(float(betas[0]), float(betas[1])),
        eps=float(_field(obj, "eps", where, (int, float), 1e-8)),
        weight_decay=float(_field(obj, "weight_decay", where, (int, float), 0.0)),
        max_grad_norm=float(_field(obj, "max_grad_norm", where, (int, float), 0.0)),
    )


def default_eval_every(steps: int) -> int:
    """The engine's default: max(1, round(steps / 10)), halves rounded up (Python's round() would round to even)."""
    return max(1, math.floor(steps / 10 + 0.5))


def _validation(obj: dict, steps: int, where: str) -> ValidationSpec:
    stopping = _field(obj, "early_stopping", where, dict, {"patience": 0})
    validation = ValidationSpec(
        tokens=_field(obj, "tokens", where, str),
        eval_every=_field(obj, "eval_every", where, int, default_eval_every(steps)),
        patience=_field(stopping, "patience", f"{where}.early_stopping", int),
        min_delta=float(_field(stopping, "min_delta", f"{where}.early_stopping", (int, float), 0.0)),
    )
    if validation.eval_every < 1:
        raise SpecError(f"{where}.eval_every: must be >= 1")
    if validation.min_delta < 0:
        raise SpecError(f"{where}.early_stopping.min_delta: must be >= 0")
    return validation


def _job(obj: dict, index: int) -> JobSpec:
    where = f"jobs[{index}]"
    schedule = _field(obj, "schedule", where, dict, {"type": "constant", "warmup_steps": 0})
    schedule_type = _field(schedule, "type", f"{where}.schedule", str)
    if schedule_type not in ("constant", "linear", "cosine"):
        raise SpecError(f"{where}.schedule.type: unknown schedule '{schedule_type}'")
    steps = _field(obj, "steps", where, int)
    validation = _field(obj, "validation", where, dict, None)
    job = JobSpec(
        id=_field(obj, "id", where, str),
        tokens=_field(obj, "tokens", where, str),
        init_adapter=_field(obj, "init_adapter", where, str, None),
        lora=_lora(_field(obj, "lora", where, dict), f"{where}.lora"),
        optimizer=_optimizer(_field(obj, "optimizer", where, dict), f"{where}.optimizer"),
        schedule_type=schedule_type,
        warmup_steps=_field(schedule, "warmup_steps", f"{where}.schedule", int, 0),
        steps=steps,
        micro_batch_size=_field(obj, "micro_batch_size", where, int),
        grad_accum=_field(obj, "grad_accum", where, int, 1),
        shuffle=_field(obj, "shuffle", where, bool, False),
        seed=_field(obj, "seed", where, int, 0),
        output_dir=_field(obj, "output_dir", where, str, None),
        validation=_validation(validation, steps, f"{where}.validation") if validation is not None else None,
    )
    if job.shuffle:
        raise SpecError(f"{where}.shuffle: the reference reproduces only the contract's unshuffled data order")
    for key in ("steps", "micro_batch_size", "grad_accum"):
        if getattr(job, key) < 1:
            raise SpecError(f"{where}.{key}: must be >= 1")
    return job


def load_spec(path: str) -> Spec:
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SpecError(f"{path}: cannot read spec: {e}") from e
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: the spec must be a JSON object")
    jobs = [_job(j, i) if isinstance(j, dict) else _bad_job(i) for i, j in enumerate(_field(raw, "jobs", "spec", list))]
    if not jobs:
        raise SpecError(f"{path}: 'jobs' is empty")
    ids = [j.id for j in jobs]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{path}: job ids repeat: {ids}")
    return Spec(model=_field(raw, "model", "spec", str), jobs=jobs)


def _bad_job(index: int) -> JobSpec:
    raise SpecError(f"jobs[{index}]: must be a JSON object")
