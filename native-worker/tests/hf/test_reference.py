"""The HF reference on a real tiny model: the dump holds exactly the contract's tensors, and adapters that PEFT
would only half-load, or that disagree with the spec, are refused instead of silently compared."""
import json
import os
import shutil

import pytest
import torch
from safetensors.numpy import load_file, save_file

import make_tiny_models as tiny
from gtok import read_gtok, write_gtok
from reference import dump_job
from spec import SpecError, load_spec
from lora_model import load_job_model


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tiny"))
    model = next(m for m in tiny.model_specs() if m.name == "qwen2")
    model_dir = tiny.save_model(model, root)
    adapter = model.adapters[1]
    adapter_dir = os.path.join(root, "adapters", adapter.name)
    tiny.save_adapter(model_dir, adapter, 7, adapter_dir)
    data = os.path.join(root, "d.gtok")
    write_gtok(data, tiny.make_examples(5, 4, 5, 12))
    return {"root": root, "model": model_dir, "adapter": adapter_dir, "lora": adapter, "data": data}


def write_spec(ws, tmp_path, **overrides):
    lora = ws["lora"]
    job = {"id": "j", "tokens": ws["data"], "init_adapter": ws["adapter"],
           "lora": {"r": lora.r, "alpha": lora.alpha, "dropout": 0.0, "target_modules": lora.targets,
                    "use_rslora": lora.use_rslora},
           "optimizer": {"lr": 1e-3}, "steps": 1, "micro_batch_size": 3, "output_dir": str(tmp_path / "o")}
    job.update(overrides)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"model": ws["model"], "jobs": [job]}))
    return load_spec(str(path))


def test_dump_holds_loss_logits_targets_and_one_grad_per_lora_weight(workspace, tmp_path):
    spec = write_spec(workspace, tmp_path)
    dump_job(spec, spec.jobs[0], str(tmp_path), torch.float32)
    out = load_file(str(tmp_path / "j.safetensors"))
    examples = read_gtok(workspace["data"])[:3]
    adapter_keys = load_file(os.path.join(workspace["adapter"], "adapter_model.safetensors")).keys()
    assert out["logits"].shape == (sum(len(e.tokens) for e in examples), 384)
    assert out["n_targets"][0] == sum(int(e.mask[1:].sum()) for e in examples)
    assert sorted(k for k in out if k.startswith("grad.")) == sorted(f"grad.{k}" for k in adapter_keys)
    assert all(out[f"grad.{k}"].any() for k in adapter_keys)
    assert 0 < out["loss"][0] < 20


def test_an_adapter_tensor_peft_cannot_place_is_refused(workspace, tmp_path):
    broken = str(tmp_path / "broken")
    shutil.copytree(workspace["adapter"], broken)
    weights = os.path.join(broken, "adapter_model.safetensors")
    tensors = load_file(weights)
    key = next(iter(tensors))
    tensors[key.replace("layers.0", "layers.00")] = tensors.pop(key)
    save_file(tensors, weights)
    spec = write_spec(workspace, tmp_path, init_adapter=broken)
    with pytest.raises(SpecError, match="do not match the model's LoRA weights"):
        load_job_model(spec.model, spec.jobs[0], torch.float32)


def test_a_spec_whose_lora_block_disagrees_with_the_adapter_is_refused(workspace, tmp_path):
    lora = workspace["lora"]
    spec = write_spec(workspace, tmp_path, lora={"r": lora.r * 2, "alpha": lora.alpha, "target_modules": lora.targets})
    with pytest.raises(SpecError, match="spec says r="):
        load_job_model(spec.model, spec.jobs[0], torch.float32)


def test_an_adapter_config_without_the_causal_lm_task_is_refused(workspace, tmp_path):
    other = str(tmp_path / "other")
    shutil.copytree(workspace["adapter"], other)
    config_path = os.path.join(other, "adapter_config.json")
    config = json.load(open(config_path))
    config["task_type"] = "SEQ_CLS"
    json.dump(config, open(config_path, "w"))
    spec = write_spec(workspace, tmp_path, init_adapter=other)
    with pytest.raises(SpecError, match="expected .*CAUSAL_LM"):
        load_job_model(spec.model, spec.jobs[0], torch.float32)
