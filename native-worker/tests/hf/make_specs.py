"""Writes the cross-check's engine specs for every tiny model made by make_tiny_models.py.

    make_specs.py ROOT

ROOT is make_tiny_models.py's OUT. Per model it writes ROOT/specs/<model>/:
  train.json   three co-trained jobs that differ in adapter (r, alpha, targets, rsLoRA), data, lr, schedule, batch
               shape, clipping, length and validation (set, interval, early stopping), so one fused engine run covers
               them all and jobs finish at different steps; output_dir = ROOT/out/<model>/engine-train/<job>
  dump.json    the same jobs with grad_accum 1 (the contract dumps one micro-batch per step); with their validation
               sets, a dump also gives the validation loss before any step
  reload.json  dump.json's jobs starting from the adapters the engine wrote in train.json: PEFT loading them must
               give the engine's loss, logits and gradients
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

from make_tiny_models import model_specs

THREADS = 2
JOB_SHAPES = [
    # (adapter index, data set, optimizer, schedule, steps, micro_batch_size, grad_accum)
    (0, "a", {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "max_grad_norm": 1.0},
     {"type": "cosine", "warmup_steps": 2}, 6, 2, 1),
    (1, "b", {"lr": 5e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "max_grad_norm": 0.5},
     {"type": "linear", "warmup_steps": 1}, 5, 3, 2),
    (0, "c", {"lr": 2e-3, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1, "max_grad_norm": 0.0},
     {"type": "constant", "warmup_steps": 1}, 4, 1, 3),
]
# Each job's validation set (another job's data), evaluation interval and early stopping: evaluations at steps 2, 4, 6
# / 2, 4, 5 / 3 and the last, 4; job 1 stops as soon as one evaluation fails to improve (patience 1), keeping the best
# evaluation's adapter, so whether it stops or not the reference must agree.
VALIDATION = [
    {"tokens": "c", "eval_every": 2},
    {"tokens": "a", "eval_every": 2, "early_stopping": {"patience": 1, "min_delta": 0.0}},
    {"tokens": "b", "eval_every": 3},
]
# Every job starts with lr 0 (warmup). Adam's first full-lr step is lr·g/(|g| + eps): in the odd element whose
# gradient is within ~eps of 0, fp32 rounding of g (~1e-8) then moves that element's update by percents, for HF's fp32
# run as much as for the engine (measured: one element put HF fp32 at 1.5e-4 of a whole tensor's update). After one
# step v holds that element's earlier gradient too, and two near-zero gradients in a row are rare.


def lora_block(adapter) -> dict:
    return {"r": adapter.r, "alpha": adapter.alpha, "dropout": 0.0, "target_modules": list(adapter.targets),
            "use_rslora": adapter.use_rslora}


def train_spec(root: str, model) -> dict:
    jobs = []
    for i, (adapter_index, data, optimizer, schedule, steps, mbs, accum) in enumerate(JOB_SHAPES):
        adapter = model.adapters[adapter_index]
        job_id = f"{model.name}-{i}-{adapter.name}"
        jobs.append({
            "id": job_id,
            "tokens": os.path.join(root, "data", f"{data}.gtok"),
            "init_adapter": os.path.join(root, "adapters", model.name, adapter.name),
            "lora": lora_block(adapter),
            "optimizer": dict(optimizer),
            "schedule": dict(schedule),
            "steps": steps,
            "micro_batch_size": mbs,
            "grad_accum": accum,
            "shuffle": False,
            "seed": i,
            "output_dir": os.path.join(root, "out", model.name, "engine-train", job_id),
            "validation": dict(VALIDATION[i], tokens=os.path.join(root, "data", f"{VALIDATION[i]['tokens']}.gtok")),
        })
    return {"model": os.path.join(root, "models", model.name), "threads": THREADS, "jobs": jobs}


def dump_spec(train: dict, kind: str) -> dict:
    spec = copy.deepcopy(train)
    for job in spec["jobs"]:
        job["grad_accum"] = 1
        # A dump writes no adapter, but output_dir is a required spec field; keep it away from train's adapters.
        job["output_dir"] = job["output_dir"].replace("/engine-train/", f"/engine-{kind}-scratch/")
    return spec


def reload_spec(train: dict) -> dict:
    spec = dump_spec(train, "reload")
    for job, trained in zip(spec["jobs"], train["jobs"]):
        job["init_adapter"] = trained["output_dir"]
    return spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root")
    root = os.path.abspath(parser.parse_args().root)
    for model in model_specs():
        folder = os.path.join(root, "specs", model.name)
        os.makedirs(folder, exist_ok=True)
        train = train_spec(root, model)
        for name, spec in (("train", train), ("dump", dump_spec(train, "dump")), ("reload", reload_spec(train))):
            with open(os.path.join(folder, f"{name}.json"), "w") as f:
                json.dump(spec, f, indent=2)
                f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
