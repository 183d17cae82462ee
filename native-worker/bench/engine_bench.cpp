// Engine benchmark (CPU): a fixed Llama-shaped random-weight model and 4 LoRA jobs, run
//   fused       - one engine, all 4 jobs packed into every step;
//   sequential  - the same 4 jobs one after another on the same loaded model;
//   separate    - 4 concurrent `grove-engine train` processes, one job each (peak RSS of each, summed),
// and the fused run again as its own `grove-engine train` process for its peak RSS.
// Prints a table, then as the last line a JSON object with the headline numbers.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "grove/engine.h"
#include "grove/random_model.h"
#include "grove/rng.h"
#include "grove/token_file.h"

namespace {

using grove::Status;
using nlohmann::json;

constexpr int kJobs = 4;
constexpr int kSteps = 8;        // optimizer steps per job in the throughput runs
constexpr int kMemorySteps = 3;  // enough to reach the steady-state peak

json model_config() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", 512},
          {"intermediate_size", 1376}, {"num_hidden_layers", 4}, {"num_attention_heads", 8},
          {"num_key_value_heads", 4}, {"vocab_size", 8192}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
          {"hidden_act", "silu"}, {"tie_word_embeddings", false}};
}

void check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what, st.to_string().c_str());
    std::exit(1);
  }
}

grove::TokenData bench_tokens(uint64_t seed) {
  grove::TokenData d;
  d.offsets.push_back(0);
  for (int e = 0; e < 64; ++e) {
    const int len = 32 + static_cast<int>(grove::hash_combine(seed, e) % 33);  // 32..64 tokens
    for (int t = 0; t < len; ++t) {
      d.tokens.push_back(static_cast<uint32_t>(grove::hash_combine(seed * 977 + e, t) % 8192));
      d.mask.push_back(t >= len / 4);
    }
    d.offsets.push_back(d.tokens.size());
  }
  return d;
}

json job_json(const std::string& dir, int i, int steps, const std::string& out) {
  static const std::vector<std::vector<std::string>> targets = {
      {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
      {"q_proj", "v_proj"},
      {"q_proj", "k_proj", "v_proj", "o_proj"},
      {"gate_proj", "up_proj", "down_proj"}};
  return {{"id", "job" + std::to_string(i)},
          {"tokens", dir + "/data" + std::to_string(i) + ".gtok"},
          {"lora", {{"r", 8 + 8 * (i % 2)}, {"alpha", 16}, {"target_modules", targets[i]}}},
          {"optimizer", {{"lr", 1e-3}}},
          {"schedule", {{"type", "cosine"}, {"warmup_steps", 1}}},
          {"steps", steps},
          {"micro_batch_size", 2},
          {"seed", i},
          {"output_dir", dir + "/" + out + "/job" + std::to_string(i)}};
}

struct Throughput {
  double seconds = 0;
  int64_t tokens = 0;
  double tokens_per_s() const { return static_cast<double>(tokens) / seconds; }
};

Throughput run_engine(grove::Backend& backend, const grove::Model& model, const std::vector<json>& jobs) {
  grove::Engine engine(backend, model);
  for (const auto& j : jobs) check(engine.add_job(grove::parse_job_spec(j).value()), "add_job");
  Throughput t;
  while (engine.has_jobs()) {
    grove::StepReport r = engine.step();
    t.seconds += r.seconds;
    t.tokens += r.tokens;
    if (!r.failed.empty()) check(grove::make_error(grove::ErrorCode::kInternal, r.failed[0].message), "step");
  }
  return t;
}

// Starts `grove-engine train spec`; returns its pid.
pid_t spawn_train(const std::string& spec) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stderr)) _exit(126);
    execl(GROVE_ENGINE_PATH, GROVE_ENGINE_PATH, "train", spec.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits for the process and returns its peak resident set size in bytes.
int64_t wait_peak_rss(pid_t pid) {
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench: grove-engine train failed\n");
    std::exit(1);
  }
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

void write_spec(const std::string& path, const std::string& dir, const std::vector<json>& jobs) {
  std::ofstream(path) << json{{"model", dir + "/model"}, {"threads", 1}, {"jobs", jobs}}.dump(2);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const std::string dir = (std::filesystem::temp_directory_path() / ("grove-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  check(grove::write_random_model(model_config(), dir + "/model", 1), "writing the model");
  for (int i = 0; i < kJobs; ++i) check(grove::write_token_file(dir + "/data" + std::to_string(i) + ".gtok", bench_tokens(i + 1)), "tokens");

  auto backend = grove::make_cpu_backend(threads);
  auto model = grove::load_model(dir + "/model", *backend);
  check(model.status(), "loading the model");
  std::vector<json> fused_jobs;
  for (int i = 0; i < kJobs; ++i) fused_jobs.push_back(job_json(dir, i, kSteps, "fused"));
  run_engine(*backend, model.value(), {job_json(dir, 0, 1, "warmup")});  // first-touch page faults, BLAS buffers
  const Throughput fused = run_engine(*backend, model.value(), fused_jobs);
  Throughput sequential;
  for (int i = 0; i < kJobs; ++i) {
    Throughput t = run_engine(*backend, model.value(), {job_json(dir, i, kSteps, "sequential")});
    sequential.seconds += t.seconds;
    sequential.tokens += t.tokens;
  }

  // Memory: each configuration as real processes, one thread each so 4 separate processes fit 2 cores fairly.
  std::vector<json> mem_jobs;
  for (int i = 0; i < kJobs; ++i) mem_jobs.push_back(job_json(dir, i, kMemorySteps, "mem-fused"));
  write_spec(dir + "/fused.json", dir, mem_jobs);
  const int64_t fused_peak = wait_peak_rss(spawn_train(dir + "/fused.json"));
  std::vector<pid_t> pids;
  for (int i = 0; i < kJobs; ++i) {
    const std::string spec = dir + "/separate" + std::to_string(i) + ".json";
    write_spec(spec, dir, {job_json(dir, i, kMemorySteps, "mem-separate")});
    pids.push_back(spawn_train(spec));
  }
  int64_t separate_total = 0;
  std::vector<int64_t> separate_peaks;
  for (pid_t pid : pids) separate_total += separate_peaks.emplace_back(wait_peak_rss(pid));
  std::filesystem::remove_all(dir);

  const auto& c = model.value().config;
  const double mib = 1024.0 * 1024.0;
  const double speedup = fused.tokens_per_s() / sequential.tokens_per_s();
  std::printf("model: Llama-shaped, hidden %d, %d layers, %d heads (%d kv), intermediate %d, vocab %d; %d jobs; "
              "%d threads\n", c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads, c.intermediate_size,
              c.vocab_size, kJobs, threads);
  std::printf("%-28s %12s %12s %14s\n", "run", "tokens", "seconds", "tokens/s");
  std::printf("%-28s %12lld %12.3f %14.1f\n", "fused (4 jobs per step)", static_cast<long long>(fused.tokens),
              fused.seconds, fused.tokens_per_s());
  std::printf("%-28s %12lld %12.3f %14.1f\n", "sequential (one at a time)", static_cast<long long>(sequential.tokens),
              sequential.seconds, sequential.tokens_per_s());
  std::printf("speedup fused / sequential: %.3f\n", speedup);
  std::printf("%-28s %12s\n", "process", "peak RSS MiB");
  std::printf("%-28s %12.1f\n", "fused, 4 jobs", fused_peak / mib);
  for (int i = 0; i < kJobs; ++i) std::printf("separate job%-16d %12.1f\n", i, separate_peaks[i] / mib);
  std::printf("%-28s %12.1f  (fused = %.1f%% of it)\n", "separate, total", separate_total / mib,
              100.0 * fused_peak / separate_total);
  json result = {{"fused_tokens_per_s", fused.tokens_per_s()},
                 {"sequential_tokens_per_s", sequential.tokens_per_s()},
                 {"speedup", speedup},
                 {"fused_peak_bytes", fused_peak},
                 {"separate_peak_bytes_total", separate_total},
                 {"fused_peak_fraction_of_separate", static_cast<double>(fused_peak) / separate_total},
                 {"threads", threads}};
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
