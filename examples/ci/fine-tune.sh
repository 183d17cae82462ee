#!/usr/bin/env bash
# A CI fine-tune step (docs/ci.md): upload the dataset, submit the job with an idempotency key derived from the commit,
# wait for it to end, download the adapter. Exits with the grove CLI's code: 0 succeeded, 1 job failed, 2 bad input,
# 3 API error, 4 job cancelled, 5 control plane unreachable, 6 local failure.
#
# Env: GROVE_API_URL, GROVE_TOKEN (a member token from the CI secret store)
#      GIT_SHA          the commit (default: git rev-parse HEAD)
#      DATASET          JSONL dataset (default: examples/datasets/instructions.jsonl)
#      JOB_FILE         job body (default: examples/ci/job.yaml)
#      MODEL            base model, overriding the job file's
#      OUT_DIR          where the adapter is unpacked (default: adapter-<GIT_SHA>)
#      IDEMPOTENCY_KEY  default ci-<GIT_SHA>: a re-run of the same commit gets the same job (within 24 h); add the
#                       run attempt to it to train again
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
grove=${GROVE:-$here/../../apps/cli/bin/grove}
sha=${GIT_SHA:-$(git rev-parse HEAD)}
key=${IDEMPOTENCY_KEY:-ci-$sha}
dataset=${DATASET:-$here/../datasets/instructions.jsonl}
job_file=${JOB_FILE:-$here/job.yaml}
out=${OUT_DIR:-adapter-$sha}

# -q prints only the id on stdout; progress and errors go to stderr (the CI log).
file_id=$("$grove" datasets upload "$dataset" --idempotency-key "$key-dataset" -q)
echo "dataset $file_id"

# --wait follows the job's events and exits 0 only if it succeeded; set -e stops here with the CLI's exit code.
job_id=$("$grove" jobs create -f "$job_file" ${MODEL:+--model "$MODEL"} --training-file "$file_id" \
  --metadata "git_sha=$sha" --idempotency-key "$key" --wait -q)
echo "job $job_id succeeded"

"$grove" adapters download "$job_id" -o "$out"
