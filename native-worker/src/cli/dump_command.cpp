// `dump SPEC.json OUT_DIR`: one fused forward+backward of every job's first micro-batch, without an update, for
// the cross-check against HF transformers + PEFT (tests/hf/). Writes OUT_DIR/<job id>.safetensors.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/spec_loader.h"
#include "grove/engine.h"
#include "grove/file_util.h"

namespace grove::cli {

int dump_command(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "usage: grove-engine dump SPEC.json OUT_DIR\n";
    return 2;
  }
  auto loaded = load_spec_and_model(args[0]);
  if (!loaded) return 1;
  Engine engine(*loaded->backend, loaded->model);
  engine.set_recompute(loaded->spec.recompute);
  for (auto job : loaded->spec.jobs) {
    // A dump must neither resume from nor disturb a training run's outputs: the job gets a scratch folder.
    job.output_dir = args[1] + "/.dump-" + job.id;
    job.checkpoint_dir = job.output_dir + "/checkpoint";
    std::filesystem::remove_all(job.output_dir);
    Status st = engine.add_job(job);
    if (!st.ok()) {
      std::cerr << "grove-engine: job '" << job.id << "': " << st.to_string() << "\n";
      return 1;
    }
  }
  Status st = make_dirs(args[1]);
  if (st.ok()) st = engine.dump(args[1]);
  for (const auto& job : loaded->spec.jobs) std::filesystem::remove_all(args[1] + "/.dump-" + job.id);
  if (!st.ok()) {
    std::cerr << "grove-engine: " << st.to_string() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace grove::cli
