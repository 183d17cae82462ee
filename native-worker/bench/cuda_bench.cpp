// CUDA engine benchmark: LLaMA-2-7B- and Llama-3-8B-shaped random-weight models (no downloads), 1, 2, 4 and 8
// co-trained LoRA jobs, sequence lengths 512 and 2048. For each run: tokens/s, model FLOP/s as a fraction of the
// bf16 GEMM rate measured on the same GPU in the same run, and peak memory. Writes the results as JSON (--out) and
// prints a table, then the JSON as its last line.
//
// FLOPs per trained token (model FLOPs, no recomputation counted; native-worker/PERF.md):
//   frozen base   2 N forward + 2 N backward (input gradients only; frozen weights get none), with
//                 N = parameters of every linear projection and the LM head (the embedding is a lookup);
//   LoRA          per adapted projection of rank r: 2 r (in + out) forward, 4 r (in + out) backward;
//   attention     per layer 4 c H D forward (QK^T and PV) and 8 c H D backward (dQ, dK, dV, dP), c = the mean
//                 number of visible keys per query, (L + 1) / 2 for causal sequences of length L.
//
// Each run ends with one more step timed op by op on the device (op_seconds; gpu_report.py prints it for the
// headline run). The 4-job run at the first sequence length runs again with each job's LoRA GEMMs
// launched one by one instead of grouped (Backend::gemm_grouped), under "lora_one_by_one".
//
// --shapes tiny runs a tiny model instead (the dry run of scripts/gpu-check.sh on a machine without a GPU).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "backend/cuda/cuda_api.h"
#include "bench/bench_inputs.h"
#include "grove/cuda_backend.h"
#include "grove/engine.h"
#include "grove/random_model.h"
#include "grove/token_file.h"

namespace {

using grove::bench::fixed_length_sequences;
using grove::bench::llama_config;
using nlohmann::json;

constexpr int kLoraRank = 16;
constexpr int kWarmupSteps = 1;
constexpr int kTimedSteps = 3;
const std::vector<std::string>& kTargets = grove::bench::kAllProjections;

struct Shape {
  std::string name;
  json config;
};

std::vector<Shape> shapes(bool tiny) {
  if (tiny) return {{"tiny", llama_config(64, 96, 2, 4, 2, 256, 10000.0)}};
  return {{"llama2-7b", llama_config(4096, 11008, 32, 32, 32, 32000, 10000.0)},
          {"llama3-8b", llama_config(4096, 14336, 32, 32, 8, 128256, 500000.0)}};
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "cuda-bench: %s\n", what.c_str());
  std::exit(1);
}

// The bf16 GEMM ceiling: C[n, n] = A B, bf16 in and out, fp32 accumulation (what the engine's projections run).
double measure_gemm_flops(int n) {
  void *a, *b, *c;
  const size_t bytes = static_cast<size_t>(n) * n * 2;
  grove::cuda::check_cuda(cudaMalloc(&a, bytes), "gemm bench");
  grove::cuda::check_cuda(cudaMalloc(&b, bytes), "gemm bench");
  grove::cuda::check_cuda(cudaMalloc(&c, bytes), "gemm bench");
  cudaMemset(a, 0x3c, bytes);  // 0x3c3c as bf16 is ~0.0115: finite, non-zero
  cudaMemset(b, 0x3c, bytes);
  cublasHandle_t h;
  grove::cuda::check_cublas(cublasCreate(&h), "cublasCreate");
  const float alpha = 1.0f, beta = 0.0f;
  auto run = [&] {
    grove::cuda::check_cublas(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, CUDA_R_16BF, n, b,
                                           CUDA_R_16BF, n, &beta, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                           CUBLAS_GEMM_DEFAULT), "gemm bench");
  };
  for (int i = 0; i < 3; ++i) run();
  cudaDeviceSynchronize();
  const int reps = 10;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) run();
  grove::cuda::check_cuda(cudaDeviceSynchronize(), "gemm bench");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return 2.0 * n * static_cast<double>(n) * n * reps / s;
}

double flops_per_token(const grove::ModelConfig& c, int seq_len) {
  const double H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const double qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  const double proj = H * qd + 2 * H * kvd + qd * H + 3 * H * I;
  const double n = c.num_layers * proj + static_cast<double>(c.vocab_size) * H;
  const double lora_dims = c.num_layers * ((H + qd) + 2 * (H + kvd) + (qd + H) + 3 * (H + I));
  const double visible = (seq_len + 1) / 2.0;
  const double attn = c.num_layers * 12.0 * visible * c.num_heads * D;
  return 4.0 * n + 6.0 * kLoraRank * lora_dims + attn;
}

json run_config(grove::Backend& backend, const grove::Model& model, const std::string& dir, int jobs, int seq) {
  backend.release_cached_memory();  // so device memory in use counts this run's blocks, not earlier runs' cache
  grove::Engine engine(backend, model);
  for (int j = 0; j < jobs; ++j) {
    const std::string tokens = dir + "/seq" + std::to_string(seq) + "-" + std::to_string(j) + ".gtok";
    if (!std::filesystem::exists(tokens)) {
      const int vocab = std::min(model.config.vocab_size, 32000);
      auto st = grove::write_token_file(tokens, fixed_length_sequences(8, seq, vocab, j + 1));
      if (!st.ok()) die(st.to_string());
    }
    json spec = {{"id", "job" + std::to_string(j)}, {"tokens", tokens}, {"output_dir", dir + "/out" + std::to_string(j)},
                 {"lora", {{"r", kLoraRank}, {"alpha", 2 * kLoraRank}, {"target_modules", kTargets}}},
                 {"optimizer", {{"lr", 1e-4}}}, {"steps", 1000}, {"micro_batch_size", 1}, {"seed", j}};
    auto parsed = grove::parse_job_spec(spec);
    if (!parsed.ok()) die(parsed.status().to_string());
    if (auto st = engine.add_job(parsed.value()); !st.ok()) die(st.to_string());
  }
  backend.reset_peak_memory();
  double seconds = 0;
  int64_t tokens = 0;
  for (int s = 0; s < kWarmupSteps + kTimedSteps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    grove::StepReport r = engine.step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.failed.empty()) {
      return {{"jobs", jobs}, {"seq", seq}, {"error", r.failed[0].message}};
    }
    if (s >= kWarmupSteps) {
      seconds += dt;
      tokens += r.tokens;
    }
  }
  // One more step with the backend timing each op on the device: where the step's time goes. The span not
  // covered by any op is time the GPU waited for the host.
  backend.set_op_timing(true);
  const auto t0 = std::chrono::steady_clock::now();
  grove::StepReport profiled = engine.step();
  std::vector<grove::OpTime> ops = backend.op_times();
  const double profiled_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  backend.set_op_timing(false);
  json op_seconds = json::object();
  for (const grove::OpTime& t : ops) op_seconds[t.op] = {{"seconds", t.seconds}, {"calls", t.calls}};
  for (int j = 0; j < jobs; ++j) (void)engine.remove_job("job" + std::to_string(j));
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  return {{"jobs", jobs}, {"seq", seq}, {"tokens_per_s", tokens / seconds},
          {"flops_per_token", flops_per_token(model.config, seq)},
          {"engine_peak_bytes", backend.memory_stats().peak_total}, {"device_used_bytes", total_bytes - free_bytes},
          {"grouped_lora_gemm", backend.grouped_gemm()},
          {"grouped_gemm_refusals", backend.grouped_gemm_refusals()},
          {"profiled_step_s", profiled.failed.empty() ? profiled_s : 0.0},
          {"op_seconds", op_seconds}};
}

// Writes the results so far (after every run: a crash or a time limit later keeps what was measured), atomically.
void save(const json& result, const std::string& path) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) die("cannot write " + tmp);
  std::fputs(result.dump(2).c_str(), f);
  if (std::fclose(f) != 0) die("cannot write " + tmp);
  std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  bool tiny = false;
  std::string out_path;
  std::vector<int> seqs = {512, 2048};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--shapes" && i + 1 < argc) {
      tiny = std::string(argv[++i]) == "tiny";
    } else if (a == "--seqs" && i + 1 < argc) {
      seqs.clear();
      for (std::string s = argv[++i]; !s.empty();) {
        const size_t comma = s.find(',');
        seqs.push_back(std::atoi(s.substr(0, comma).c_str()));
        s = comma == std::string::npos ? "" : s.substr(comma + 1);
      }
    } else if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      die("usage: grove-cuda-bench [--shapes full|tiny] [--seqs 512,2048] [--out FILE.json]");
    }
  }
  auto made = grove::make_cuda_backend(0);
  if (!made.ok()) die(made.status().to_string());
  std::unique_ptr<grove::Backend> backend = std::move(made).value();
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const double gemm_flops = measure_gemm_flops(tiny ? 256 : 8192);
  std::printf("device: %s; bf16 GEMM %s: %.1f TFLOP/s\n", prop.name, tiny ? "256^3" : "8192^3", gemm_flops / 1e12);

  const std::string dir = (std::filesystem::temp_directory_path() / ("grove-cuda-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  json result = {{"device", prop.name}, {"gemm_bf16_flops", gemm_flops}, {"lora_rank", kLoraRank},
                 {"targets", kTargets}, {"runs", json::array()}, {"lora_one_by_one", json::array()}};
  std::printf("%-10s %4s %5s %12s %8s %12s %12s\n", "model", "jobs", "seq", "tokens/s", "of GEMM", "peak GiB", "device GiB");
  for (const Shape& shape : shapes(tiny)) {
    const auto t0 = std::chrono::steady_clock::now();
    auto model = grove::random_model(shape.config, *backend, 1, 0.02f, int64_t{1} << 20);
    if (!model.ok()) die(model.status().to_string());
    std::fprintf(stderr, "cuda-bench: %s built in %.1f s\n", shape.name.c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (int seq : seqs) {
      for (int jobs : {1, 2, 4, 8}) {
        json r = run_config(*backend, model.value(), dir, jobs, seq);
        r["model"] = shape.name;
        if (r.contains("error")) {
          std::printf("%-10s %4d %5d  failed: %s\n", shape.name.c_str(), jobs, seq, r["error"].get<std::string>().c_str());
        } else {
          const double frac = r["tokens_per_s"].get<double>() * r["flops_per_token"].get<double>() / gemm_flops;
          r["fraction_of_gemm"] = frac;
          std::printf("%-10s %4d %5d %12.0f %7.1f%% %12.2f %12.2f\n", shape.name.c_str(), jobs, seq,
                      r["tokens_per_s"].get<double>(), 100 * frac, r["engine_peak_bytes"].get<double>() / (1 << 30),
                      r["device_used_bytes"].get<double>() / (1 << 30));
        }
        std::fflush(stdout);
        result["runs"].push_back(r);
        save(result, out_path);
        if (jobs == 4 && seq == seqs.front() && !r.contains("error") && r["grouped_lora_gemm"].get<bool>()) {
          // The same run with each job's LoRA GEMMs launched one by one: what grouping them gains.
          backend->set_grouped_gemm(false);
          json alone = run_config(*backend, model.value(), dir, jobs, seq);
          backend->set_grouped_gemm(true);
          alone["model"] = shape.name;
          if (!alone.contains("error")) {
            std::printf("%-10s %4d %5d %12.0f  (LoRA GEMMs one by one)\n", shape.name.c_str(), jobs, seq,
                        alone["tokens_per_s"].get<double>());
          }
          result["lora_one_by_one"].push_back(alone);
          save(result, out_path);
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
  save(result, out_path);
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
