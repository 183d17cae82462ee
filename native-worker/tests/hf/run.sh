#!/usr/bin/env bash
# Cross-checks the C++ engine against HF transformers + PEFT on CPU (what and why: native-worker/docs/crosscheck.md).
# tiny models -> grove-engine dump/train -> reference.py -> compare.py; exits non-zero on any failed check and ends
# with the line "N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$(cd "$here/../.." && pwd)"
repo="$(cd "$native/.." && pwd)"
work="$native/build/hf"
# GROVE_ENGINE points at another build of the engine (a second build folder while developing).
engine="${GROVE_ENGINE:-$native/build/grove-engine}"
py="$repo/.venv/bin/python"
models=(llama llama3 mistral qwen2)

# The verdict is HF run in float64 (the exact answer for these fp32 weights and data), so the reference's own fp32
# rounding does not eat the tolerance. Why these bounds (measured numbers in native-worker/docs/crosscheck.md):
# - dump (loss, logits, every LoRA gradient): fp32 is ~1e-6 off float64, up to ~8e-6 on ill-conditioned
#   gradients; 1e-5 normalised error.
# - trained weights (and per-step loss, lr, grad_norm): 1e-5 likewise.
# - updates (trained - init): they sit ~100x below the weights, so fp32 rounding of the weights alone is ~1e-5 of the
#   update: 1e-4.
# The calibration checks below hold HF's own fp32 run to the same bounds, so they cannot be tighter than fp32 allows.
ref_dtype=float64
dump_rtol=1e-5
weights_rtol=1e-5
update_rtol=1e-4

export OMP_NUM_THREADS=2 PYTHONDONTWRITEBYTECODE=1
passed=0
failed=0
mkdir -p "$work/logs"

# check NAME CMD...: runs CMD with its output in a log; a compare's summary line is shown, a failure shows the log.
check() {
  local name="$1"; shift
  local log="$work/logs/${name//[^A-Za-z0-9_.-]/_}.log" start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "ok    $name ($((SECONDS - start)) s)$(summary "$log")"
    return 0
  fi
  failed=$((failed + 1))
  echo "FAIL  $name ($((SECONDS - start)) s, log: $log)"
  tail -n 60 "$log" | sed 's/^/      /'
  return 1
}

summary() {
  local last
  last="$(tail -n 1 "$1")"
  [[ "$last" == PASS* ]] && echo "  -- ${last#PASS }"
}

finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
}

if ! check setup-venv "$native/scripts/setup-venv.sh"; then finish; fi
check python-unit-tests "$py" -m pytest -q -p no:cacheprovider "$here" "$native/tools"

if [[ ! -x "$engine" ]]; then
  check build-engine bash -c "cmake -S '$native' -B '$native/build' -DCMAKE_BUILD_TYPE=Release >/dev/null \
    && cmake --build '$native/build' -j2"
fi

rm -rf "$work/models" "$work/adapters" "$work/data" "$work/specs" "$work/out"
if ! check tiny-models bash -c "'$py' '$here/make_tiny_models.py' '$work' && '$py' '$here/make_specs.py' '$work'"; then
  finish
fi

job_ids() { "$py" -c 'import json,sys; print(*[j["id"] for j in json.load(open(sys.argv[1]))["jobs"]])' "$1"; }

# dump: first step's loss, logits and every LoRA gradient of all jobs of one fused engine step vs HF per job.
cross_check_dump() {
  local model="$1" kind="$2" spec="$work/specs/$1/$2.json" out="$work/out/$1"
  check "reference-$kind:$model" "$py" "$here/reference.py" "$spec" "$out/ref-$kind" --dtype "$ref_dtype" || return
  check "engine-$kind:$model" "$engine" dump "$spec" "$out/engine-$kind" || return
  for job in $(job_ids "$spec"); do
    check "$kind:$job" "$py" "$here/compare.py" "$out/engine-$kind/$job.safetensors" "$out/ref-$kind/$job.safetensors" \
      --rtol "$dump_rtol" --label "$kind $job"
  done
}

# train: the adapters (and per-step loss, lr, grad_norm) after N fused AdamW steps vs torch's, one job at a time.
cross_check_train() {
  local model="$1" spec="$work/specs/$1/train.json" out="$work/out/$1"
  check "reference-train:$model" "$py" "$here/reference.py" "$spec" "$out/ref-train" --mode train \
    --dtype "$ref_dtype" || return 1
  check "engine-train:$model" "$engine" train "$spec" || return 1
  for job in $(job_ids "$spec"); do
    check "train-weights:$job" "$py" "$here/compare.py" "$out/engine-train/$job" "$out/ref-train/$job" \
      --rtol "$weights_rtol" --label "trained weights+metrics $job"
    check "train-update:$job" "$py" "$here/compare.py" "$out/engine-train/$job" "$out/ref-train/$job" \
      --rtol "$update_rtol" --delta-from "$(init_adapter "$spec" "$job")" --label "update $job"
  done
}

# calibration: HF's own fp32 run must pass the same bounds against the float64 verdict (else they are too tight).
calibrate() {
  local model="$1" kind="$2" spec="$work/specs/$1/$2.json" out="$work/out/$1"
  local mode="dump" ext=".safetensors"
  [[ "$kind" == train ]] && mode="train" ext=""
  [[ -d "$out/ref-$kind" ]] || return
  check "reference-fp32-$kind:$model" "$py" "$here/reference.py" "$spec" "$out/ref32-$kind" --mode "$mode" || return
  for job in $(job_ids "$spec"); do
    if [[ "$kind" == train ]]; then
      check "calibration-train-update:$job" "$py" "$here/compare.py" "$out/ref32-train/$job" "$out/ref-train/$job" \
        --rtol "$update_rtol" --delta-from "$(init_adapter "$spec" "$job")" --label "HF fp32 vs float64 update $job"
    else
      check "calibration-$kind:$job" "$py" "$here/compare.py" "$out/ref32-$kind/$job$ext" "$out/ref-$kind/$job$ext" \
        --rtol "$dump_rtol" --label "HF fp32 vs float64 $kind $job"
    fi
  done
}

init_adapter() {
  "$py" -c 'import json,sys; print(next(j["init_adapter"] for j in json.load(open(sys.argv[1]))["jobs"]
    if j["id"] == sys.argv[2]))' "$1" "$2"
}

for model in "${models[@]}"; do
  cross_check_dump "$model" dump
  # reload: the engine's trained adapters, loaded by PeftModel.from_pretrained, give the engine's loss and grads.
  cross_check_train "$model" && cross_check_dump "$model" reload
done
calibrate llama3 dump
calibrate mistral dump
calibrate mistral train
calibrate mistral reload

finish
