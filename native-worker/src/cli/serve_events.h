// JSON encodings of the serve protocol's output events (docs/serve-protocol.md), one object per stdout line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "grove/backend.h"
#include "grove/engine.h"

namespace grove::cli {

// The backend's allocations by category, current and peak, and when it has a device the bytes in use there.
nlohmann::ordered_json memory_json(const Backend& backend);
nlohmann::ordered_json step_event(const StepEvent& e, const nlohmann::ordered_json& memory);
nlohmann::ordered_json job_finished_event(const JobFinished& f);
nlohmann::ordered_json job_failed_event(const std::string& id, FailureReason reason, const std::string& message);
nlohmann::ordered_json checkpointed_event(const Checkpointed& c);
nlohmann::ordered_json error_event(const std::string& cmd, const std::string& message);

}  // namespace grove::cli
