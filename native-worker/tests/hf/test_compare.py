import contextlib
import io
import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import compare


def run_compare(a, b, *extra):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = compare.main([str(a), str(b), *extra])
    return code, out.getvalue()


def write(path, tensors):
    save_file({k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}, str(path))
    return path


@pytest.fixture
def reference(tmp_path):
    rng = np.random.default_rng(0)
    return {"loss": rng.normal(size=[1]), "grad.w": rng.normal(size=[4, 8])}


def test_equal_sets_pass(tmp_path, reference):
    code, out = run_compare(write(tmp_path / "a", reference), write(tmp_path / "b", reference))
    assert code == 0
    assert out.splitlines()[-1].startswith("PASS")


def test_error_within_rtol_passes_and_above_fails(tmp_path, reference):
    b = write(tmp_path / "b", reference)
    near = dict(reference, **{"grad.w": reference["grad.w"] * (1 + 1e-6)})
    far = dict(reference, **{"grad.w": reference["grad.w"] * (1 + 1e-3)})
    assert run_compare(write(tmp_path / "near", near), b, "--rtol", "1e-5")[0] == 0
    code, out = run_compare(write(tmp_path / "far", far), b, "--rtol", "1e-5")
    assert code == 1
    assert "grad.w FAIL" in out.splitlines()[-1]


def test_missing_unexpected_and_reshaped_tensors_fail(tmp_path, reference):
    b = write(tmp_path / "b", reference)
    code, out = run_compare(write(tmp_path / "a1", {"loss": reference["loss"]}), b)
    assert code == 1 and "grad.w MISSING" in out
    code, out = run_compare(write(tmp_path / "a2", dict(reference, extra=[1.0])), b)
    assert code == 1 and "extra UNEXPECTED" in out
    code, out = run_compare(write(tmp_path / "a3", dict(reference, **{"grad.w": reference["grad.w"].T})), b)
    assert code == 1 and "grad.w SHAPE" in out


def test_non_finite_values_fail_even_within_atol(tmp_path):
    b = write(tmp_path / "b", {"x": [0.0, 0.0]})
    code, _ = run_compare(write(tmp_path / "a", {"x": [0.0, np.nan]}), b, "--atol", "1")
    assert code == 1


def test_unreadable_input_exits_2(tmp_path, reference):
    (tmp_path / "junk").write_bytes(b"not safetensors")
    code, out = run_compare(tmp_path / "junk", write(tmp_path / "b", reference))
    assert code == 2 and "cannot read safetensors" in out


def adapter_dir(path, weights, metrics=None):
    os.makedirs(path)
    write(os.path.join(path, "adapter_model.safetensors"), weights)
    if metrics is not None:
        with open(os.path.join(path, "metrics.jsonl"), "w") as f:
            f.writelines(json.dumps(m) + "\n" for m in metrics)
    return path


def test_adapter_folders_compare_metrics_and_updates(tmp_path):
    init = {"w": np.ones([2, 3])}
    metrics = [{"step": 0, "loss": 2.0, "lr": 0.1, "grad_norm": 1.0}]
    b = adapter_dir(tmp_path / "b", {"w": init["w"] + 1e-3}, metrics)
    # The same weights to 1e-6 relative but an update that is 1e-3 relative off: only --delta-from sees it.
    a = adapter_dir(tmp_path / "a", {"w": init["w"] + 1e-3 * (1 + 1e-3)}, metrics)
    adapter_dir(tmp_path / "init", init)
    assert run_compare(a, b, "--rtol", "1e-5")[0] == 0
    code, out = run_compare(a, b, "--rtol", "1e-5", "--delta-from", str(tmp_path / "init"))
    assert code == 1 and "w FAIL" in out.splitlines()[-1]
    wrong_lr = adapter_dir(tmp_path / "c", {"w": init["w"] + 1e-3}, [dict(metrics[0], lr=0.2)])
    code, out = run_compare(wrong_lr, b)
    assert code == 1 and "metrics.lr FAIL" in out
    no_metrics = adapter_dir(tmp_path / "d", {"w": init["w"] + 1e-3})
    code, out = run_compare(no_metrics, b)
    assert code == 1 and "metrics.loss MISSING" in out


def test_validation_losses_are_compared_with_the_lines_that_carry_them(tmp_path):
    weights = {"w": np.ones([2, 3])}
    line = {"step": 0, "loss": 2.0, "lr": 0.1, "grad_norm": 1.0}
    metrics = [line, dict(line, val_loss=3.0), dict(line, val_loss=2.5)]
    b = adapter_dir(tmp_path / "b", weights, metrics)
    assert run_compare(adapter_dir(tmp_path / "same", weights, metrics), b)[0] == 0
    shifted = [dict(line, val_loss=3.0), dict(line, val_loss=2.5), line]
    code, out = run_compare(adapter_dir(tmp_path / "shifted", weights, shifted), b)
    assert code == 1 and "metrics.val_loss_line FAIL" in out
    off = [line, dict(line, val_loss=3.0), dict(line, val_loss=2.6)]
    code, out = run_compare(adapter_dir(tmp_path / "off", weights, off), b)
    assert code == 1 and "metrics.val_loss FAIL" in out
    non_finite = [line, dict(line, val_loss=3.0), dict(line, val_loss=None)]
    assert run_compare(adapter_dir(tmp_path / "nan", weights, non_finite), b)[0] == 1
    code, out = run_compare(adapter_dir(tmp_path / "none", weights, [line] * 3), b)
    assert code == 1 and "metrics.val_loss MISSING" in out
