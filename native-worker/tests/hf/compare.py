"""Compares two sets of tensors: engine output A against HF reference B.

    compare.py A B [--rtol R] [--atol T] [--delta-from INIT] [--label NAME]

A and B are each a .safetensors file or a PEFT adapter folder (its adapter_model.safetensors; when B has a
metrics.jsonl, A's per-step loss, lr and grad_norm are compared too, as tensors `metrics.<field>`, and where lines
carry a validation loss, `metrics.val_loss` and the 0-based line numbers that carry it, `metrics.val_loss_line`).
With --delta-from INIT (an adapter folder), adapter weights are compared as updates (A − INIT vs B − INIT): after a
few small optimizer steps the weights are still mostly their initial values, which would hide a wrong update.
Per tensor it prints the max abs error and the normalised error ‖a−b‖/‖b‖. A tensor passes when its normalised
error is ≤ rtol, or its max abs error is ≤ atol (for tensors whose reference is ~0, where a ratio means nothing).
Exit status: 0 all pass; 1 any tensor over tolerance, missing, unexpected or of another shape; 2 unreadable input.
The last line is a one-line summary. Tolerances and their reasons: native-worker/docs/crosscheck.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass

import numpy as np
from safetensors.numpy import load_file

METRIC_FIELDS = ("loss", "lr", "grad_norm")


class InputError(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    name: str
    shape: str
    max_abs: float
    norm_err: float
    status: str  # ok | FAIL | MISSING | UNEXPECTED | SHAPE


def _read_metrics(path: str) -> dict[str, np.ndarray]:
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{n}: not JSON: {e}") from e
    out = {}
    for field in METRIC_FIELDS:
        if any(field not in r for r in rows):
            raise InputError(f"{path}: a line lacks '{field}'")
        out[f"metrics.{field}"] = np.asarray([float(r[field]) for r in rows], dtype=np.float64)
    evaluated = [i for i, r in enumerate(rows) if "val_loss" in r]
    if evaluated:
        losses = [rows[i]["val_loss"] for i in evaluated]
        # null is how the engine writes a non-finite loss
        out["metrics.val_loss"] = np.asarray([math.nan if v is None else float(v) for v in losses], dtype=np.float64)
        out["metrics.val_loss_line"] = np.asarray(evaluated, dtype=np.float64)
    return out


def load_tensors(path: str, with_metrics: bool) -> dict[str, np.ndarray]:
    if os.path.isdir(path):
        weights = os.path.join(path, "adapter_model.safetensors")
        if not os.path.isfile(weights):
            raise InputError(f"{path}: no adapter_model.safetensors")
        tensors = _load(weights)
        metrics = os.path.join(path, "metrics.jsonl")
        if with_metrics and os.path.isfile(metrics):
            tensors.update(_read_metrics(metrics))
        return tensors
    return _load(path)


def _load(path: str) -> dict[str, np.ndarray]:
    try:
        return {k: v.astype(np.float64) for k, v in load_file(path).items()}
    except Exception as e:  # safetensors raises its own error types for bad files
        raise InputError(f"{path}: cannot read safetensors: {e}") from e


def compare_tensor(name: str, a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Row:
    shape = "x".join(map(str, b.shape)) or "scalar"
    if a.shape != b.shape:
        return Row(name, f"{'x'.join(map(str, a.shape))} vs {shape}", math.nan, math.nan, "SHAPE")
    diff = a - b
    max_abs = float(np.max(np.abs(diff))) if diff.size else 0.0
    ref_norm = float(np.linalg.norm(b))
    norm_err = float(np.linalg.norm(diff)) / ref_norm if ref_norm > 0 else (0.0 if max_abs == 0 else math.inf)
    finite = bool(np.all(np.isfinite(a)))
    ok = finite and (norm_err <= rtol or max_abs <= atol)
    return Row(name, shape, max_abs, norm_err, "ok" if ok else "FAIL")


def compare_sets(a: dict[str, np.ndarray], b: dict[str, np.ndarray], rtol: float, atol: float) -> list[Row]:
    rows = [compare_tensor(k, a[k], b[k], rtol, atol) if k in a else Row(k, "", math.nan, math.nan, "MISSING")
            for k in sorted(b)]
    rows += [Row(k, "", math.nan, math.nan, "UNEXPECTED") for k in sorted(set(a) - set(b))]
    return rows


def subtract(tensors: dict[str, np.ndarray], init: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weights minus their initial values; tensors absent from init (metrics) or of another shape stay as they are
    so that compare_sets still reports them."""
    return {k: v - init[k] if k in init and init[k].shape == v.shape else v for k, v in tensors.items()}


def print_table(rows: list[Row]) -> None:
    width = max(len(r.name) for r in rows)
    print(f"{'tensor':<{width}}  {'shape':>12}  {'max_abs':>10}  {'norm_err':>10}  status")
    for r in rows:
        print(f"{r.name:<{width}}  {r.shape:>12}  {r.max_abs:>10.3e}  {r.norm_err:>10.3e}  {r.status}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="engine output: .safetensors or adapter folder")
    parser.add_argument("b", help="reference: .safetensors or adapter folder")
    parser.add_argument("--rtol", type=float, default=1e-5, help="bound on ‖a−b‖/‖b‖ per tensor")
    parser.add_argument("--atol", type=float, default=1e-8, help="max abs error that passes regardless")
    parser.add_argument("--delta-from", default=None, help="adapter folder subtracted from A's and B's weights")
    parser.add_argument("--label", default=None, help="name shown in the summary line")
    args = parser.parse_args(argv)
    try:
        b = load_tensors(args.b, with_metrics=True)
        a = load_tensors(args.a, with_metrics=any(k.startswith("metrics.") for k in b))
    except InputError as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    if not b:
        print(f"compare: {args.b} holds no tensors", file=sys.stderr)
        return 2
    if args.delta_from:
        try:
            init = load_tensors(args.delta_from, with_metrics=False)
        except InputError as e:
            print(f"compare: {e}", file=sys.stderr)
            return 2
        a, b = subtract(a, init), subtract(b, init)
    rows = compare_sets(a, b, args.rtol, args.atol)
    print_table(rows)
    bad = [r for r in rows if r.status != "ok"]
    worst = max((r for r in rows if r.status in ("ok", "FAIL")), key=lambda r: r.norm_err, default=None)
    worst_text = f"worst norm_err {worst.norm_err:.2e} ({worst.name})" if worst else "nothing comparable"
    label = args.label or f"{args.a} vs {args.b}"
    verdict = "PASS" if not bad else f"FAIL ({len(bad)} bad: {', '.join(r.name + ' ' + r.status for r in bad[:4])})"
    print(f"{verdict} {label}: {len(rows)} tensors, {worst_text}, rtol {args.rtol:g} atol {args.atol:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
