"""Builds the HF transformers + PEFT model for one job exactly as the engine is asked to: fp32 (or fp64 for
calibration), eager attention, LoRA dropout 0, starting from the job's PEFT-saved adapter."""
from __future__ import annotations

import os
import re

import quiet_hf  # noqa: F401
import torch
from safetensors.torch import load_file
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

from spec import JobSpec, SpecError

_ADAPTER_NAME = "default"
# PEFT names a parameter `...q_proj.lora_A.default.weight` in memory and `...q_proj.lora_A.weight` on disk.
_IN_MEMORY_ADAPTER = re.compile(rf"\.(lora_[AB])\.{_ADAPTER_NAME}\.")


def saved_key(param_name: str) -> str:
    return _IN_MEMORY_ADAPTER.sub(r".\1.", param_name)


def _check_adapter_matches(model: PeftModel, job: JobSpec) -> None:
    """The spec's lora block and the init adapter's config must agree, or the engine and we train different things."""
    config = model.peft_config[_ADAPTER_NAME]
    where = f"job '{job.id}': init_adapter {job.init_adapter}"
    if config.r != job.lora.r or float(config.lora_alpha) != job.lora.alpha:
        raise SpecError(f"{where} has r={config.r} alpha={config.lora_alpha}, spec says r={job.lora.r} "
                        f"alpha={job.lora.alpha}")
    if set(config.target_modules) != set(job.lora.target_modules):
        raise SpecError(f"{where} targets {sorted(config.target_modules)}, spec says {sorted(job.lora.target_modules)}")
    if bool(config.use_rslora) != job.lora.use_rslora:
        raise SpecError(f"{where} use_rslora={config.use_rslora}, spec says {job.lora.use_rslora}")
    # The fields a PEFT user relies on: a causal-LM LoRA with no bias training, stored [out, in] (not Conv1D-style).
    expected = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "bias": "none", "fan_in_fan_out": False}
    found = {k: getattr(config, k) for k in expected}
    found["peft_type"] = str(getattr(found["peft_type"], "value", found["peft_type"]))
    found["task_type"] = str(getattr(found["task_type"], "value", found["task_type"]))
    if found != expected:
        raise SpecError(f"{where}: adapter_config.json has {found}, expected {expected}")


def _check_adapter_loaded(model: PeftModel, adapter_dir: str) -> None:
    """PEFT only warns about adapter tensors it cannot place (and leaves those weights at their init), so check
    that every saved tensor landed on a LoRA weight of the same shape and value, and that no LoRA weight was left out."""
    saved = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    params = lora_parameters(model)
    missing, unexpected = sorted(set(params) - set(saved)), sorted(set(saved) - set(params))
    if missing or unexpected:
        raise SpecError(f"{adapter_dir}: adapter tensors do not match the model's LoRA weights: "
                        f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, p in params.items():
        if saved[key].shape != p.shape or not torch.equal(saved[key].to(p.dtype), p.detach()):
            raise SpecError(f"{adapter_dir}: {key} was not loaded as saved")


def load_job_model(model_dir: str, job: JobSpec, dtype: torch.dtype) -> PeftModel:
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, attn_implementation="eager")
    if job.init_adapter is not None:
        model = PeftModel.from_pretrained(base, job.init_adapter, is_trainable=True)
        _check_adapter_matches(model, job)
        _check_adapter_loaded(model, job.init_adapter)
        model.peft_config[_ADAPTER_NAME].lora_dropout = 0.0
    else:
        # PEFT's default init (kaiming-uniform A from the seed, B = 0); the engine's RNG differs, so only B matches.
        torch.manual_seed(job.seed)
        config = LoraConfig(r=job.lora.r, lora_alpha=job.lora.alpha, lora_dropout=0.0,
                            target_modules=job.lora.target_modules, use_rslora=job.lora.use_rslora,
                            bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(base, config)
    model.to(dtype)
    model.train()
    return model


def lora_parameters(model: PeftModel) -> dict[str, torch.nn.Parameter]:
    """Trainable LoRA weights under their saved PEFT key names, in a stable order."""
    params = {saved_key(n): p for n, p in model.named_parameters() if p.requires_grad}
    if not params or any(".lora_" not in k for k in params):
        raise SpecError(f"unexpected trainable parameters: {sorted(params)}")
    return dict(sorted(params.items()))
