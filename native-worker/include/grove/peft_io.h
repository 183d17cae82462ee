// PEFT adapter files: adapter_model.safetensors (fp32, PEFT key names) + adapter_config.json, read and written.
#pragma once

#include <string>

#include "grove/adapter.h"
#include "grove/status.h"

namespace grove {

// Writes <dir>/adapter_model.safetensors and <dir>/adapter_config.json (each atomically).
Status write_peft_adapter(const std::string& dir, Backend& backend, const Adapter& adapter,
                          const std::string& base_model_path);

// Loads A and B of every module of `adapter` from <dir>/adapter_model.safetensors. Every targeted module must be
// present with the right shape; a tensor for a module the job does not target is an error too (it would be lost).
Status load_peft_adapter(const std::string& dir, Backend& backend, Adapter& adapter);

}  // namespace grove
