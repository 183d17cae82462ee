// `train SPEC.json`: loads the model once, adds every job, and steps the fused engine until all jobs are done.
// Progress goes to stderr, one line per optimizer step. Exit code 1 if any job failed (the others still finish).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "grove/engine.h"

namespace grove::cli {

int train_command(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: grove-engine train SPEC.json\n";
    return 2;
  }
  auto spec = load_train_spec(args[0]);
  if (!spec.ok()) {
    std::cerr << "grove-engine: " << spec.status().to_string() << "\n";
    return 1;
  }
  auto backend = make_cpu_backend(spec.value().threads);
  auto model = load_model(spec.value().model, *backend);
  backend->set_memory_limit(spec.value().memory_limit);
  if (!model.ok()) {
    std::cerr << "grove-engine: " << model.status().to_string() << "\n";
    return 1;
  }
  Engine engine(*backend, model.value());
  int failures = 0;
  for (const auto& job : spec.value().jobs) {
    Status st = engine.add_job(job);
    if (!st.ok()) {
      std::cerr << "grove-engine: job '" << job.id << "' failed (" << failure_reason_name(classify_failure(st))
                << "): " << st.message() << "\n";
      ++failures;
    }
  }
  while (engine.has_jobs()) {
    StepReport report = engine.step();
    for (const auto& e : report.steps) {
      std::fprintf(stderr, "job %s step %lld loss %.6f lr %.3g grad_norm %.4f tokens/s %.0f\n", e.job_id.c_str(),
                   static_cast<long long>(e.metrics.step), e.metrics.loss, e.metrics.lr, e.metrics.grad_norm,
                   e.metrics.tokens_per_s);
    }
    for (const auto& f : report.finished) std::fprintf(stderr, "job %s finished: %s\n", f.job_id.c_str(), f.output_dir.c_str());
    for (const auto& f : report.failed) {
      std::fprintf(stderr, "job %s failed (%s): %s\n", f.job_id.c_str(), failure_reason_name(f.reason), f.message.c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace grove::cli
