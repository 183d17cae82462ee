// Engine measurements for the scheduler's calibration (libs/scheduler/README.md, "Calibration from the engine").
// For each model shape, every combination of k co-trained LoRA jobs, B sequences per job per step and sequence
// length L: seconds per fused step (median of the timed steps, after warm-up) and the backend's peak bytes by
// category. One JSON record per run; libs/scheduler/bench/fit-engine-calibration.ts fits the scheduler's memory
// and throughput coefficients from them.
//
//   grove-calibrate[-emu|-gpu] [--shapes small|tiny|gpu] [--threads N] [--out FILE.json]
//
// Built three times: for the CPU backend (grove-calibrate), for the CUDA backend under the emulator
// (grove-calibrate-emu: bf16 memory layout, its timings mean nothing) and on a GPU (grove-calibrate-gpu).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench/bench_inputs.h"
#include "cli/serve_events.h"
#include "grove/backend.h"
#include "grove/engine.h"
#include "grove/random_model.h"
#include "grove/token_file.h"
#ifdef GROVE_CALIBRATE_CUDA
#include "grove/cuda_backend.h"
#endif

namespace {

using grove::bench::fixed_length_sequences;
using grove::bench::llama_config;
using nlohmann::json;

constexpr int kLoraRank = 8;
constexpr int kWarmupSteps = 1;
constexpr int kTimedSteps = 3;
const std::vector<std::string>& kTargets = grove::bench::kAllProjections;

struct Grid {
  std::vector<int> jobs;
  std::vector<int> sequences;
  std::vector<int> seq_lens;
};

struct Shape {
  std::string name;
  json config;
};

// Six shapes whose hidden, key/value width, intermediate and layer counts vary independently, so the fit can
// separate the bytes each of them adds per token (head_dim 32 throughout: one the CUDA attention kernels run).
std::vector<Shape> small_shapes() {
  return {{"s1", llama_config(128, 344, 2, 4, 2, 512)}, {"s2", llama_config(256, 512, 2, 8, 4, 1024)},
          {"s3", llama_config(192, 768, 3, 6, 2, 768)}, {"s4", llama_config(128, 512, 1, 4, 4, 256)},
          {"s5", llama_config(256, 256, 1, 8, 1, 512)}, {"s6", llama_config(64, 640, 2, 2, 2, 1024)}};
}

std::vector<Shape> shapes(const std::string& set) {
  if (set == "gpu") {
    return {{"llama3.2-1b", llama_config(2048, 8192, 16, 32, 8, 128256)},
            {"llama3.1-8b", llama_config(4096, 14336, 32, 32, 8, 128256, 500000.0)}};
  }
  return small_shapes();
}

// "tiny" is the small shapes on fewer, shorter batches: the emulated CUDA backend runs them in minutes.
Grid grid(const std::string& set) {
  if (set == "gpu") return {{1, 2, 4}, {1}, {512, 2048}};
  if (set == "tiny") return {{1, 3}, {1, 2}, {16, 32}};
  return {{1, 2, 4}, {1, 2}, {32, 64, 128}};
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "calibrate: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<grove::Backend> make_backend(int threads) {
#ifdef GROVE_CALIBRATE_CUDA
  (void)threads;
  auto made = grove::make_cuda_backend(0);
  if (!made.ok()) die(made.status().to_string());
  return std::move(made).value();
#else
  return grove::make_cpu_backend(threads);
#endif
}

json run(grove::Backend& backend, const grove::Model& model, const std::string& dir, int jobs, int seqs, int len) {
  backend.release_cached_memory();
  grove::Engine engine(backend, model);
  for (int j = 0; j < jobs; ++j) {
    const int vocab = std::min(model.config.vocab_size, 32000);
    const std::string tokens = dir + "/v" + std::to_string(vocab) + "-s" + std::to_string(seqs) + "-l" + std::to_string(len) +
                               "-" + std::to_string(j) + ".gtok";
    if (!std::filesystem::exists(tokens)) {
      auto st = grove::write_token_file(tokens, fixed_length_sequences(4 * seqs, len, vocab, j + 1));
      if (!st.ok()) die(st.to_string());
    }
    json spec = {{"id", "job" + std::to_string(j)}, {"tokens", tokens}, {"output_dir", dir + "/out" + std::to_string(j)},
                 {"lora", {{"r", kLoraRank}, {"alpha", 2 * kLoraRank}, {"target_modules", kTargets}}},
                 {"optimizer", {{"lr", 1e-4}}}, {"steps", 1000}, {"micro_batch_size", seqs}, {"seed", j}};
    auto parsed = grove::parse_job_spec(spec);
    if (!parsed.ok()) die(parsed.status().to_string());
    if (auto st = engine.add_job(parsed.value()); !st.ok()) die(st.to_string());
  }
  backend.reset_peak_memory();
  std::vector<double> times;
  int tokens = 0;
  for (int s = 0; s < kWarmupSteps + kTimedSteps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    grove::StepReport r = engine.step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.failed.empty()) return {{"error", r.failed[0].message}};
    if (s >= kWarmupSteps) times.push_back(dt);
    tokens = r.tokens;
  }
  std::sort(times.begin(), times.end());
  const json peak = grove::cli::memory_json(backend)["peak"];  // by category, as serve events report it
  for (int j = 0; j < jobs; ++j) (void)engine.remove_job("job" + std::to_string(j));
  return {{"jobs", jobs}, {"sequences_per_job", seqs}, {"seq_len", len}, {"fused_tokens", tokens},
          {"step_seconds", times[times.size() / 2]}, {"peak_bytes", peak}};
}

json model_fields(const grove::ModelConfig& c) {
  return {{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size}, {"num_layers", c.num_layers},
          {"num_heads", c.num_heads}, {"num_kv_heads", c.num_kv_heads}, {"head_dim", c.head_dim},
          {"vocab_size", c.vocab_size}, {"tied_embeddings", c.tie_word_embeddings}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string set = "small", out_path;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--shapes" && i + 1 < argc) {
      set = argv[++i];
      if (set != "small" && set != "tiny" && set != "gpu") die("--shapes must be small, tiny or gpu, not '" + set + "'");
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
      if (threads < 1) die("--threads must be a positive integer");
    } else if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      die("usage: grove-calibrate [--shapes small|tiny|gpu] [--threads N] [--out FILE.json]");
    }
  }
  std::unique_ptr<grove::Backend> backend = make_backend(threads);
  const std::string dir = (std::filesystem::temp_directory_path() / ("grove-calibrate-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  const int activation_bytes = static_cast<int>(grove::dtype_size(backend->activation_dtype()));
  json result = {{"tool", "grove-calibrate"}, {"shapes", set}, {"backend", backend->name()}, {"activation_dtype_bytes", activation_bytes},
                 {"weight_dtype_bytes", grove::dtype_size(backend->weight_dtype())}, {"threads", threads},
                 {"lora_rank", kLoraRank}, {"lora_targets", kTargets}, {"runs", json::array()}};
  const Grid g = grid(set);
  std::printf("%-8s %4s %4s %5s %8s %10s %14s %14s\n", "model", "jobs", "seqs", "len", "tokens", "step ms", "activation B", "adapter B");
  for (const Shape& shape : shapes(set)) {
    auto model = grove::random_model(shape.config, *backend, 1, 0.02f, int64_t{1} << 20);
    if (!model.ok()) die(model.status().to_string());
    for (int len : g.seq_lens) {
      for (int seqs : g.sequences) {
        for (int jobs : g.jobs) {
          json r = run(*backend, model.value(), dir, jobs, seqs, len);
          if (r.contains("error")) die(shape.name + ": " + r["error"].get<std::string>());
          r["model_name"] = shape.name;
          r["model"] = model_fields(model.value().config);
          std::printf("%-8s %4d %4d %5d %8d %10.2f %14zu %14zu\n", shape.name.c_str(), jobs, seqs, len,
                      r["fused_tokens"].get<int>(), 1e3 * r["step_seconds"].get<double>(),
                      r["peak_bytes"]["activations"].get<size_t>(), r["peak_bytes"]["adapter_optimizer"].get<size_t>());
          std::fflush(stdout);
          result["runs"].push_back(r);
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
  if (!out_path.empty()) {
    FILE* f = std::fopen(out_path.c_str(), "w");
    if (f == nullptr) die("cannot write " + out_path);
    // One run per line, so a committed file reads and diffs by run.
    std::string text = "{\n";
    for (const auto& [key, value] : result.items()) {
      if (key != "runs") text += "  \"" + key + "\": " + value.dump() + ",\n";
    }
    text += "  \"runs\": [\n";
    for (size_t i = 0; i < result["runs"].size(); ++i) {
      text += "    " + result["runs"][i].dump() + (i + 1 < result["runs"].size() ? ",\n" : "\n");
    }
    text += "  ]\n}\n";
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  std::printf("%s\n", json{{"backend", result["backend"]}, {"runs", result["runs"].size()}, {"out", out_path}}.dump().c_str());
  return 0;
}
