"""Merges the engine's CUDA benchmark (cuda_bench.cpp --out) with HF PEFT's (hf_peft_bench.py single/separate)
into one table and a last JSON line with the issue's targets for the fused 4-job 7B run at sequence length 512:
>= 55% of the measured bf16 GEMM rate, >= 2x HF PEFT's tokens/s, <= 45% of the memory of 4 separate PEFT processes.
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def print_op_times(run):
    """Where the headline run's profiled step spent its device time, largest first."""
    ops = (run or {}).get("op_seconds") or {}
    step = (run or {}).get("profiled_step_s") or 0
    if not ops or step <= 0:
        return
    print(f"one profiled step of {run['model']}, {run['jobs']} jobs, L={run['seq']}: {1e3 * step:.1f} ms")
    for op, t in sorted(ops.items(), key=lambda kv: -kv[1]["seconds"]):
        print(f"  {op + ' (' + str(t['calls']) + ')':42} {1e3 * t['seconds']:8.2f} ms {100 * t['seconds'] / step:5.1f}%")
    rest = step - sum(t["seconds"] for t in ops.values())
    print(f"  {'not in any op (waiting for the host)':42} {1e3 * rest:8.2f} ms {100 * rest / step:5.1f}%")


def main():
    grove, single, separate = (load(p) for p in sys.argv[1:4])
    if grove is None:
        print(json.dumps({"error": "no engine benchmark results"}))
        return 1
    hf = {(r["model"], r["seq"]): r for r in (single or {}).get("runs", [])}
    sep = {(r["model"], r["seq"], r["k"]): r for r in (separate or {}).get("runs", [])}
    print(f"device {grove['device']}, bf16 GEMM {grove['gemm_bf16_flops'] / 1e12:.1f} TFLOP/s")
    print(f"{'model':10} {'jobs':>4} {'seq':>5} {'grove tok/s':>12} {'of GEMM':>8} {'grove GiB':>10} "
          f"{'PEFT seq tok/s':>14} {'x':>6} {'PEFT sep tok/s':>14} {'PEFT sep GiB':>12} {'mem %':>6}")
    headline = {}
    for r in grove["runs"]:
        if "error" in r:
            print(f"{r['model']:10} {r['jobs']:>4} {r['seq']:>5}  failed: {r['error']}")
            continue
        h = hf.get((r["model"], r["seq"]))
        s = sep.get((r["model"], r["seq"], r["jobs"]))
        speedup = r["tokens_per_s"] / h["tokens_per_s"] if h else None
        mem = r["device_used_bytes"] / s["device_used_peak_bytes"] if s and s.get("device_used_peak_bytes") else None
        print(f"{r['model']:10} {r['jobs']:>4} {r['seq']:>5} {r['tokens_per_s']:>12.0f} {100 * r['fraction_of_gemm']:>7.1f}% "
              f"{r['device_used_bytes'] / 2**30:>10.2f} "
              f"{(h['tokens_per_s'] if h else float('nan')):>14.0f} {(speedup or float('nan')):>6.2f} "
              f"{(s.get('tokens_per_s', float('nan')) if s else float('nan')):>14.0f} "
              f"{(s['device_used_peak_bytes'] / 2**30 if s else float('nan')):>12.2f} "
              f"{(100 * mem if mem else float('nan')):>6.1f}")
        if r["jobs"] == 4 and r["model"] in ("llama2-7b", "tiny") and (r["seq"] == 512 or r["model"] == "tiny"):
            headline = {"model": r["model"], "seq": r["seq"], "fraction_of_gemm": r["fraction_of_gemm"], "speedup_vs_peft": speedup,
                        "memory_fraction_of_4_separate_peft": mem}
    grouped = {(r["model"], r["seq"], r["jobs"]): r for r in grove["runs"] if "error" not in r}
    for r in grove.get("lora_one_by_one", []):
        g = grouped.get((r["model"], r["seq"], r["jobs"]))
        if "error" in r or g is None:
            continue
        gain = g["tokens_per_s"] / r["tokens_per_s"]
        print(f"{r['model']:10} {r['jobs']:>4} {r['seq']:>5} {r['tokens_per_s']:>12.0f} with LoRA GEMMs one by one; "
              f"grouped {gain:.2f}x")
        if headline and (headline["model"], headline["seq"]) == (r["model"], r["seq"]):
            headline["grouped_lora_gain"] = gain
    if headline:
        run = grouped.get((headline["model"], headline["seq"], 4)) or {}
        if run.get("grouped_gemm_refusals"):
            print(f"cuBLAS refused {run['grouped_gemm_refusals']} kind(s) of grouped GEMM: those ran one by one "
                  "(see bench.err)")
        print_op_times(run)
    result = {"gemm_bf16_tflops": grove["gemm_bf16_flops"] / 1e12, **headline}
    if headline:
        result["targets_met"] = {
            "fraction_of_gemm>=0.55": headline["fraction_of_gemm"] >= 0.55,
            "speedup_vs_peft>=2": headline["speedup_vs_peft"] is not None and headline["speedup_vs_peft"] >= 2,
            "memory<=0.45": headline["memory_fraction_of_4_separate_peft"] is not None
            and headline["memory_fraction_of_4_separate_peft"] <= 0.45,
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
