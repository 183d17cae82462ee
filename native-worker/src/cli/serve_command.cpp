// `serve --model DIR [--threads N] [--memory-limit BYTES]`: the long-running mode the worker agent drives.
// Commands arrive as JSON lines on stdin (read by a thread into a queue); between fused steps the engine applies
// every queued command, then runs one step if it has jobs, or sleeps until a command arrives. Events go to stdout, one JSON object per line.
// Protocol: docs/serve-protocol.md.
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/serve_events.h"
#include "grove/engine.h"

namespace grove::cli {

namespace {

using nlohmann::ordered_json;

class LineQueue {
 public:
  void push(std::string line) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(std::move(line));
    }
    ready_.notify_one();
  }
  // Pops a line; blocks until one is there only when `wait` is set.
  bool pop(std::string* line, bool wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wait) ready_.wait(lock, [&] { return !lines_.empty(); });
    if (lines_.empty()) return false;
    *line = std::move(lines_.front());
    lines_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> lines_;
};

void emit(const ordered_json& event) {
  std::cout << event.dump() << "\n";
  std::cout.flush();
}

class Server {
 public:
  Server(Engine& engine, Backend& backend) : engine_(engine), backend_(backend) {}

  // Applies one command line; false once shutdown was asked for.
  bool handle(const std::string& line) {
    auto cmd = nlohmann::json::parse(line, nullptr, false);
    if (cmd.is_discarded() || !cmd.is_object() || !cmd.contains("cmd") || !cmd["cmd"].is_string()) {
      emit(error_event("", "not a command object: " + line.substr(0, 200)));
      return true;
    }
    const std::string name = cmd["cmd"].get<std::string>();
    const std::string id = cmd.contains("id") && cmd["id"].is_string() ? cmd["id"].get<std::string>() : "";
    if (name == "add_job") return add_job(cmd);
    if (name == "remove_job") {
      Status st = engine_.remove_job(id);
      emit(st.ok() ? ordered_json{{"event", "job_removed"}, {"id", id}} : error_event(name, st.message()));
      return true;
    }
    if (name == "checkpoint_job") {
      auto saved = engine_.checkpoint_job(id);
      if (!saved.ok()) {
        emit(error_event(name, saved.status().message()));
      } else if (saved.value()) {
        for (const auto& s : engine_.status())
          if (s.job_id == id) emit(checkpointed_event({id, s.step, checkpoint_dirs_[id]}));
      }
      return true;
    }
    if (name == "status") {
      ordered_json jobs = ordered_json::array();
      for (const auto& s : engine_.status()) jobs.push_back({{"id", s.job_id}, {"step", s.step}, {"steps", s.steps}});
      emit({{"event", "status"}, {"jobs", jobs}, {"memory", memory_json(backend_)}});
      return true;
    }
    if (name == "shutdown") return false;
    emit(error_event(name, "unknown command '" + name + "'"));
    return true;
  }

  void step() {
    StepReport r = engine_.step();
    const nlohmann::ordered_json mem = memory_json(backend_);
    for (const auto& e : r.steps) emit(step_event(e, mem));
    for (const auto& c : r.checkpoints) emit(checkpointed_event(c));
    for (const auto& f : r.finished) emit(job_finished_event(f));
    for (const auto& f : r.failed) emit(job_failed_event(f.job_id, f.reason, f.message));
  }

 private:
  bool add_job(const nlohmann::json& cmd) {
    if (!cmd.contains("job")) {
      emit(error_event("add_job", "missing 'job'"));
      return true;
    }
    auto spec = parse_job_spec(cmd["job"]);
    if (!spec.ok()) {
      emit(error_event("add_job", spec.status().message()));
      return true;
    }
    Status st = engine_.add_job(spec.value());
    if (!st.ok()) {
      emit(job_failed_event(spec.value().id, classify_failure(st), st.message()));
      return true;
    }
    checkpoint_dirs_[spec.value().id] = spec.value().checkpoint_dir;
    emit({{"event", "job_added"}, {"id", spec.value().id}, {"memory", memory_json(backend_)}});
    return true;
  }

  Engine& engine_;
  Backend& backend_;
  std::map<std::string, std::string> checkpoint_dirs_;
};

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  std::string model_dir, backend_name = "cpu";
  int threads = 1, device = 0;
  size_t memory_limit = 0;
  Recompute recompute = Recompute::kNone;
  std::string bad_flag;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--model") model_dir = args[i + 1];
    else if (args[i] == "--threads") threads = std::max(1, std::atoi(args[i + 1].c_str()));
    else if (args[i] == "--memory-limit") memory_limit = std::strtoull(args[i + 1].c_str(), nullptr, 10);
    else if (args[i] == "--backend") backend_name = args[i + 1];
    else if (args[i] == "--device") device = std::atoi(args[i + 1].c_str());
    else if (args[i] == "--recompute" && !parse_recompute(args[i + 1], &recompute)) bad_flag = "--recompute " + args[i + 1];
  }
  if (model_dir.empty() || args.size() % 2 != 0 || !bad_flag.empty()) {
    if (!bad_flag.empty()) std::cerr << "grove-engine: bad flag " << bad_flag << "\n";
    std::cerr << "usage: grove-engine serve --model DIR [--backend cpu|cuda] [--device N] [--threads N]"
                 " [--memory-limit BYTES] [--recompute none|norms|mlp]\n";
    return 2;
  }
  auto made = make_backend(backend_name, threads, device);
  if (!made.ok()) {
    emit({{"event", "fatal"}, {"message", made.status().to_string()}});
    return 1;
  }
  std::unique_ptr<Backend> backend = std::move(made).value();
  auto model = load_model(model_dir, *backend);
  if (!model.ok()) {
    emit({{"event", "fatal"}, {"message", model.status().to_string()}});
    return 1;
  }
  backend->set_memory_limit(memory_limit);
  Engine engine(*backend, model.value());
  engine.set_recompute(recompute);
  Server server(engine, *backend);
  LineQueue queue;
  // Detached: it may be blocked in getline at shutdown; EOF on stdin counts as shutdown.
  std::thread([&queue] {
    std::string line;
    while (std::getline(std::cin, line)) queue.push(line);
    queue.push(R"({"cmd":"shutdown"})");
  }).detach();
  emit({{"event", "ready"}, {"model", model_dir}, {"memory", memory_json(*backend)}});
  for (;;) {
    std::string line;
    bool running = true;
    // With no jobs there is nothing to do until a command arrives, so block; otherwise only drain.
    while (running && queue.pop(&line, !engine.has_jobs())) running = server.handle(line);
    if (!running) break;
    if (engine.has_jobs()) {
      try {
        server.step();
      } catch (const BackendError& e) {
        // A device failure leaves the GPU context unusable: report it and exit so the agent requeues the jobs.
        emit({{"event", "fatal"}, {"message", std::string("backend error: ") + e.what()}});
        std::cout.flush();
        std::_Exit(1);
      }
    }
  }
  emit({{"event", "shutdown"}});
  std::cout.flush();
  // The reader thread may still be blocked on stdin; leave without running static destructors under it.
  std::_Exit(0);
}

}  // namespace grove::cli
