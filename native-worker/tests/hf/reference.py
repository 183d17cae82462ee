"""HF transformers + PEFT reference for the engine's `dump` and `train` (see native-worker/docs/crosscheck.md).

    reference.py SPEC.json OUT_DIR [--mode dump|train] [--dtype float32|float64] [--job ID]...
    reference.py --task MODE DTYPE SPEC.json OUT_DIR [--task ...]      (several runs, one process)

dump:  OUT_DIR/<job>.safetensors with `loss` [1], `logits` [T, vocab] (the first micro-batch's examples
       concatenated), `n_targets` [1] and `grad.<PEFT key>` for every LoRA weight: one forward+backward of the first
       optimizer step, no update. Also self-checks the hand-computed loss against HF's labels-based loss.
       With a validation set, also `val_loss`: the set's loss with the adapter as loaded (validation.py).
train: `steps` AdamW steps with transformers' schedule and clip_grad_norm_, then OUT_DIR/<job>/ holds the adapter
       written by PEFT's save_pretrained and metrics.jsonl (step, loss, lr, tokens, grad_norm per optimizer step, and
       val_loss on the steps that evaluate the validation set; early stopping ends the run and keeps the best
       evaluation's adapter).
--dtype float64 computes in double precision on the same fp32 weights (outputs are still fp32): the exact answer,
which the cross-check judges the engine against; float32 is what a PEFT user gets.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from gtok import Example, read_gtok  # noqa: E402
from data_order import micro_batch, step_examples  # noqa: E402
from lora_model import load_job_model, lora_parameters  # noqa: E402
from spec import JobSpec, Spec, SpecError, load_spec  # noqa: E402
from step_loss import hf_labels_loss, step_forward_backward, target_ce_sum, example_logits  # noqa: E402
from validation import EarlyStopping, evaluation_due, validation_loss  # noqa: E402

SELF_CHECK_RTOL = 1e-5


class SelfCheckError(RuntimeError):
    """The hand-computed loss disagrees with HF's own loss: the reference itself is wrong."""


def check_loss_matches_hf(model: torch.nn.Module, example: Example, job_id: str) -> None:
    with torch.no_grad():
        ce_sum = target_ce_sum(example_logits(model, example), example)
    manual = float(ce_sum) / int(example.mask[1:].sum())
    hf = hf_labels_loss(model, example)
    if abs(manual - hf) > SELF_CHECK_RTOL * abs(hf):
        raise SelfCheckError(f"job '{job_id}': hand-computed loss {manual!r} != HF labels loss {hf!r}")


def dump_job(spec: Spec, job: JobSpec, out_dir: str, dtype: torch.dtype) -> None:
    examples = read_gtok(job.tokens)
    model = load_job_model(spec.model, job, dtype)
    check_loss_matches_hf(model, examples[0], job.id)
    params = lora_parameters(model)
    # With grad_accum > 1 the step loss would span micro-batches the dump's logits do not show; the contract dumps
    # one micro-batch per step.
    if job.grad_accum != 1:
        raise SpecError(f"job '{job.id}': dump needs grad_accum 1, got {job.grad_accum}")
    batch = [examples[i] for i in micro_batch(0, job.micro_batch_size, len(examples))]
    model.zero_grad(set_to_none=True)
    loss, logits, n_targets = step_forward_backward(model, batch)
    tensors = {
        "loss": torch.tensor([loss], dtype=torch.float32),
        "logits": torch.cat(logits).to(torch.float32).contiguous(),
        "n_targets": torch.tensor([n_targets], dtype=torch.float32),
    }
    for key, p in params.items():
        tensors[f"grad.{key}"] = p.grad.detach().to(torch.float32).contiguous()
    if job.validation:
        tensors["val_loss"] = torch.tensor([validation_loss(model, read_gtok(job.validation.tokens))], dtype=torch.float32)
    save_file(tensors, os.path.join(out_dir, f"{job.id}.safetensors"))


def make_schedule(job: JobSpec, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
    if job.schedule_type == "constant":
        return get_constant_schedule_with_warmup(optimizer, num_warmup_steps=job.warmup_steps)
    if job.schedule_type == "linear":
        return get_linear_schedule_with_warmup(optimizer, job.warmup_steps, num_training_steps=job.steps)
    return get_cosine_schedule_with_warmup(optimizer, job.warmup_steps, num_training_steps=job.steps)


def train_job(spec: Spec, job: JobSpec, out_dir: str, dtype: torch.dtype) -> None:
    examples = read_gtok(job.tokens)
    torch.manual_seed(job.seed)
    model = load_job_model(spec.model, job, dtype)
    params = list(lora_parameters(model).values())
    opt = job.optimizer
    optimizer = torch.optim.AdamW(params, lr=opt.lr, betas=opt.betas, eps=opt.eps, weight_decay=opt.weight_decay)
    schedule = make_schedule(job, optimizer)
    job_dir = os.path.join(out_dir, job.id)
    os.makedirs(job_dir, exist_ok=True)
    metrics = []
    validation = read_gtok(job.validation.tokens) if job.validation else None
    stopping = EarlyStopping(job.validation) if job.validation else None
    best_weights = None
    for step in range(job.steps):
        batch = [examples[i] for i in step_examples(step, job.micro_batch_size, job.grad_accum, len(examples))]
        optimizer.zero_grad(set_to_none=True)
        loss, _, _ = step_forward_backward(model, batch)
        if opt.max_grad_norm > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, opt.max_grad_norm))
        else:
            grad_norm = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])))
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        schedule.step()
        metrics.append({"step": step, "loss": loss, "lr": lr, "tokens": int(sum(len(e.tokens) for e in batch)),
                        "grad_norm": grad_norm})
        if stopping and evaluation_due(step + 1, job.steps, job.validation.eval_every):
            metrics[-1]["val_loss"] = validation_loss(model, validation)
            if stopping.observe(step + 1, metrics[-1]["val_loss"]) and job.validation.patience > 0:
                best_weights = [p.detach().clone() for p in params]
            if stopping.stopped:
                break
    if best_weights is not None:
        with torch.no_grad():
            for p, best in zip(params, best_weights):
                p.copy_(best)
    model.to(torch.float32)
    model.save_pretrained(job_dir)
    with open(os.path.join(job_dir, "metrics.jsonl"), "w") as f:
        for line in metrics:
            f.write(json.dumps(line) + "\n")


def run_task(spec_path: str, out_dir: str, mode: str, dtype_name: str, job_ids: list[str] | None) -> None:
    spec = load_spec(spec_path)
    jobs = [j for j in spec.jobs if not job_ids or j.id in job_ids]
    if job_ids and len(jobs) != len(set(job_ids)):
        raise SpecError(f"{spec_path}: no job with id in {job_ids}")
    os.makedirs(out_dir, exist_ok=True)
    for job in jobs:
        (dump_job if mode == "dump" else train_job)(spec, job, out_dir, getattr(torch, dtype_name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", nargs="?")
    parser.add_argument("out_dir", nargs="?")
    parser.add_argument("--mode", choices=["dump", "train"], default="dump")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--job", action="append", help="run only these job ids (default: all)")
    # Starting torch costs seconds; the cross-check runs all its reference work in one process this way.
    parser.add_argument("--task", nargs=4, action="append", metavar=("MODE", "DTYPE", "SPEC", "OUT_DIR"),
                        help="run this too (repeatable); MODE dump|train, DTYPE float32|float64")
    args = parser.parse_args()
    if (args.spec is None) != (args.out_dir is None) or (args.spec is None and not args.task):
        parser.error("give SPEC and OUT_DIR, or one or more --task")
    tasks = [(args.spec, args.out_dir, args.mode, args.dtype)] if args.spec else []
    for mode, dtype_name, spec_path, out_dir in args.task or []:
        if mode not in ("dump", "train") or dtype_name not in ("float32", "float64"):
            parser.error(f"--task {mode} {dtype_name}: MODE is dump|train and DTYPE float32|float64")
        tasks.append((spec_path, out_dir, mode, dtype_name))
    torch.use_deterministic_algorithms(True)
    # These matrices are tiny: a second intra-op thread only adds synchronisation, and on a shared 2-core machine its
    # spinning made runs 2-5x slower (measured).
    torch.set_num_threads(1)
    for spec_path, out_dir, mode, dtype_name in tasks:
        try:
            run_task(spec_path, out_dir, mode, dtype_name, args.job)
        except (SpecError, SelfCheckError, ValueError, OSError) as e:
            print(f"reference: {mode} {dtype_name} {spec_path}: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
