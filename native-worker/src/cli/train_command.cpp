// `train SPEC.json`: loads the model once, adds every job, and steps the fused engine until all jobs are done.
// Progress goes to stderr, one line per optimizer step. Exit code 1 if any job failed (the others still finish).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/spec_loader.h"
#include "grove/engine.h"

namespace grove::cli {

int train_command(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: grove-engine train SPEC.json\n";
    return 2;
  }
  auto loaded = load_spec_and_model(args[0]);
  if (!loaded) return 1;
  loaded->backend->set_memory_limit(loaded->spec.memory_limit);
  Engine engine(*loaded->backend, loaded->model);
  engine.set_recompute(loaded->spec.recompute);
  int failures = 0;
  for (const auto& job : loaded->spec.jobs) {
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
      std::fprintf(stderr, "job %s step %lld loss %.6f lr %.3g grad_norm %.4f tokens/s %.0f", e.job_id.c_str(),
                   static_cast<long long>(e.metrics.step), e.metrics.loss, e.metrics.lr, e.metrics.grad_norm,
                   e.metrics.tokens_per_s);
      if (e.metrics.val_loss) std::fprintf(stderr, " val_loss %.6f", *e.metrics.val_loss);
      std::fprintf(stderr, "\n");
    }
    for (const auto& f : report.finished) {
      std::fprintf(stderr, "job %s finished%s: %s", f.job_id.c_str(), f.early_stopped ? " (stopped early)" : "",
                   f.output_dir.c_str());
      if (f.best_step) std::fprintf(stderr, " (best val_loss %.6f at step %lld)", *f.best_val_loss, static_cast<long long>(*f.best_step));
      std::fprintf(stderr, "\n");
    }
    for (const auto& f : report.failed) {
      std::fprintf(stderr, "job %s failed (%s): %s\n", f.job_id.c_str(), failure_reason_name(f.reason), f.message.c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace grove::cli
