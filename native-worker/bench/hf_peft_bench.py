"""HF transformers + PEFT LoRA training speed and memory on the same shapes as bench/cuda_bench.cpp.

  single    one process trains one LoRA job per (shape, seq) in turn: tokens/s and peak memory. k jobs run one
            after another do exactly k times this work, so their tokens/s is the single job's.
  separate  k processes, one job each, at the same time: summed tokens/s, and the GPU's memory in use at the
            peak (nvidia-smi, polled), which counts every process's CUDA context as the engine's figure does.
  worker    (internal) one process of `separate`.

The model is LlamaForCausalLM with random bf16 weights (no downloads); LoRA r=16, alpha=32 on all seven
projections, adapters in fp32 (PEFT's autocast_adapter_dtype), AdamW, SDPA attention, no gradient checkpointing:
the same work per token as the engine. --device cpu --shapes tiny is the dry run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = {
    "tiny": dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=256, rope_theta=10000.0),
    "llama2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000, rope_theta=10000.0),
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0),
}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build(shape, device):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**SHAPES[shape], rms_norm_eps=1e-5, tie_word_embeddings=False, attn_implementation="sdpa")
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        model = LlamaForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    return model, opt


def train(shape, seq, steps, device):
    """Returns (tokens/s over the steps after the first, peak bytes reserved by the allocator)."""
    import torch

    model, opt = build(shape, device)
    vocab = min(SHAPES[shape]["vocab_size"], 32000)
    ids = torch.randint(0, vocab, (1, seq), device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    elapsed = 0.0
    for step in range(steps):
        sync()
        t0 = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        if step > 0:
            elapsed += time.perf_counter() - t0
    peak = torch.cuda.max_memory_reserved() if device == "cuda" else 0
    del model, opt
    if device == "cuda":
        torch.cuda.empty_cache()
    return seq * (steps - 1) / elapsed, peak


def gpu_used_bytes():
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) * 1024 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["single", "separate", "worker"])
    ap.add_argument("--shapes", default="llama2-7b,llama3-8b")
    ap.add_argument("--seqs", default="512,2048")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out")
    a = ap.parse_args()
    shapes, seqs = a.shapes.split(","), [int(s) for s in a.seqs.split(",")]

    if a.mode == "worker":
        tps, peak = train(shapes[0], seqs[0], a.steps, a.device)
        print(json.dumps({"tokens_per_s": tps, "peak_reserved_bytes": peak}), flush=True)
        return

    runs = []
    if a.mode == "single":
        for shape in shapes:
            for seq in seqs:
                tps, peak = train(shape, seq, a.steps, a.device)
                runs.append({"model": shape, "seq": seq, "tokens_per_s": tps, "peak_reserved_bytes": peak})
                save(a.out, a.mode, runs)
                print(f"hf-peft single {shape} seq {seq}: {tps:.0f} tokens/s, peak {peak / 2**30:.2f} GiB", flush=True)
    else:
        for shape in shapes:
            for seq in seqs:
                cmd = [sys.executable, __file__, "worker", "--shapes", shape, "--seqs", str(seq),
                       "--steps", str(a.steps), "--device", a.device]
                procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(a.k)]
                peak_used = 0
                while any(p.poll() is None for p in procs):
                    if a.device == "cuda":
                        peak_used = max(peak_used, gpu_used_bytes())
                    time.sleep(0.2)
                results = []
                for p in procs:
                    out = p.stdout.read().strip().splitlines()
                    results.append(json.loads(out[-1]) if p.returncode == 0 and out else None)
                ok = all(r is not None for r in results)
                run = {"model": shape, "seq": seq, "k": a.k, "ok": ok, "device_used_peak_bytes": peak_used}
                if ok:
                    run["tokens_per_s"] = sum(r["tokens_per_s"] for r in results)
                runs.append(run)
                save(a.out, a.mode, runs)
                print(f"hf-peft {a.k} separate {shape} seq {seq}: " +
                      (f"{run['tokens_per_s']:.0f} tokens/s, GPU peak {peak_used / 2**30:.2f} GiB" if ok else "failed"),
                      flush=True)
    save(a.out, a.mode, runs)


def save(path, mode, runs):
    """Writes the runs so far (after every run, so a crash or a time limit keeps what was measured), atomically."""
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        json.dump({"mode": mode, "runs": runs}, f, indent=2)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
