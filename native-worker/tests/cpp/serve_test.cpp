// Drives `grove-engine serve` as a real child process over its stdin/stdout pipes, as the worker agent will:
// add jobs (one with bad data), status, checkpoint, remove, jobs finishing, shutdown; checks every event's fields.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "test_util.h"

namespace grove {
namespace {

using nlohmann::json;

class EngineProcess {
 public:
  explicit EngineProcess(const std::string& model_dir) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const std::string engine = GROVE_ENGINE_PATH;
      execl(engine.c_str(), engine.c_str(), "serve", "--model", model_dir.c_str(), "--threads", "2",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = out[0];
  }
  ~EngineProcess() {
    if (to_) fclose(to_);
    if (from_ >= 0) close(from_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);  // a failed test must not leave the engine running
      waitpid(pid_, nullptr, 0);
    }
  }
  void send(const json& cmd) {
    fputs((cmd.dump() + "\n").c_str(), to_);
    fflush(to_);
  }
  // Next event; a null json at EOF or when nothing arrives for 60 s (so a hung engine fails the test, not CI).
  json next() {
    size_t eol;
    while ((eol = buffer_.find('\n')) == std::string::npos) {
      pollfd pfd{from_, POLLIN, 0};
      if (poll(&pfd, 1, 60000) <= 0) {
        ADD_FAILURE() << "no event from the engine within 60 s";
        return json();
      }
      char chunk[4096];
      ssize_t n = read(from_, chunk, sizeof chunk);
      if (n <= 0) return json();
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    json j = json::parse(buffer_.substr(0, eol));
    buffer_.erase(0, eol + 1);
    return j;
  }
  // The first event of this kind not yet returned, in arrival order (events may arrive before the test asks for
  // them: a short job can finish before the next command is acknowledged).
  json next_of(const std::string& event) {
    for (size_t i = 0;; ++i) {
      if (i == seen.size()) {
        json e = next();
        if (e.is_null()) return e;
        seen.push_back(e);
      }
      if (seen[i]["event"] == event && !taken_[i]) {
        taken_[i] = true;
        return seen[i];
      }
    }
  }
  int wait_exit() {
    fclose(to_);
    to_ = nullptr;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::vector<json> seen;  // every event read so far

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  int from_ = -1;
  std::map<size_t, bool> taken_;
  std::string buffer_;
};

json job(const test::TempDir& dir, const std::string& id, const std::string& tokens, int steps) {
  return {{"id", id},  {"tokens", tokens}, {"steps", steps}, {"micro_batch_size", 2},
          {"lora", {{"r", 4}, {"alpha", 8}, {"target_modules", {"q_proj", "v_proj", "down_proj"}}}},
          {"output_dir", dir / ("out/" + id)}};
}

void expect_memory(const json& mem) {
  for (const char* when : {"current", "peak"}) {
    ASSERT_TRUE(mem.contains(when)) << mem.dump();
    for (const char* key : {"base_weights", "activations", "adapter_optimizer", "total"}) {
      ASSERT_TRUE(mem[when].contains(key)) << mem.dump();
    }
    EXPECT_GT(mem[when]["base_weights"].get<int64_t>(), 0);
  }
  EXPECT_FALSE(mem.contains("device_used_bytes")) << "the CPU backend has no device figure";
}

TEST(Serve, JobsComeAndGoOverTheLineProtocol) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(6, 4, 9, 40, 1), dir / "good.gtok");
  test::write_tokens(test::random_tokens(3, 4, 9, 500, 2), dir / "bad.gtok");
  EngineProcess engine(dir / "model");
  json ready = engine.next_of("ready");
  ASSERT_EQ(ready["event"], "ready") << ready.dump();
  expect_memory(ready["memory"]);

  engine.send({{"cmd", "add_job"}, {"job", job(dir, "short", dir / "good.gtok", 3)}});
  json added = engine.next_of("job_added");
  EXPECT_EQ(added["id"], "short");
  EXPECT_GT(added["memory"]["current"]["adapter_optimizer"].get<int64_t>(), 0);
  engine.send({{"cmd", "add_job"}, {"job", job(dir, "bad", dir / "bad.gtok", 3)}});
  json failed = engine.next_of("job_failed");
  EXPECT_EQ(failed["id"], "bad");
  EXPECT_EQ(failed["reason"], "data_error");
  engine.send({{"cmd", "add_job"}, {"job", job(dir, "long", dir / "good.gtok", 1000000000)}});
  EXPECT_EQ(engine.next_of("job_added")["id"], "long");

  json finished = engine.next_of("job_finished");
  EXPECT_EQ(finished["id"], "short");
  EXPECT_EQ(finished["output_dir"], dir / "out/short");
  EXPECT_EQ(finished["early_stopped"], false);
  EXPECT_TRUE(finished["best_step"].is_null() && finished["best_val_loss"].is_null()) << finished.dump();
  EXPECT_TRUE(std::filesystem::exists(dir / "out/short/adapter_model.safetensors"));
  int short_steps = 0;
  for (const auto& e : engine.seen) {
    if (e["event"] != "step") continue;
    for (const char* key : {"id", "step", "loss", "lr", "tokens", "tokens_per_s", "grad_norm"}) {
      EXPECT_TRUE(e.contains(key)) << e.dump();
    }
    expect_memory(e["memory"]);
    EXPECT_GT(e["memory"]["peak"]["activations"].get<int64_t>(), 0);
    short_steps += e["id"] == "short";
  }
  EXPECT_EQ(short_steps, 3);

  engine.send({{"cmd", "checkpoint_job"}, {"id", "long"}});
  json ckpt = engine.next_of("checkpointed");
  EXPECT_EQ(ckpt["id"], "long");
  EXPECT_TRUE(std::filesystem::exists(dir / "out/long/checkpoint/state.json"));
  engine.send({{"cmd", "status"}});
  json status = engine.next_of("status");
  ASSERT_EQ(status["jobs"].size(), 1u) << status.dump();
  EXPECT_EQ(status["jobs"][0]["id"], "long");
  engine.send({{"cmd", "remove_job"}, {"id", "long"}});
  EXPECT_EQ(engine.next_of("job_removed")["id"], "long");
  engine.send({{"cmd", "remove_job"}, {"id", "long"}});
  EXPECT_EQ(engine.next_of("error")["cmd"], "remove_job");
  engine.send({{"cmd", "fly"}});
  EXPECT_NE(engine.next_of("error")["message"].get<std::string>().find("unknown command"), std::string::npos);
  engine.send({{"cmd", "shutdown"}});
  EXPECT_EQ(engine.next_of("shutdown")["event"], "shutdown");
  EXPECT_EQ(engine.wait_exit(), 0);
}

TEST(Serve, ValidationLossAndEarlyStoppingAreReported) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(6, 4, 9, 40, 1), dir / "good.gtok");
  test::write_tokens(test::random_tokens(4, 4, 9, 40, 2), dir / "val.gtok");
  EngineProcess engine(dir / "model");
  json validated = job(dir, "validated", dir / "good.gtok", 3);
  validated["validation"] = {{"tokens", dir / "val.gtok"}, {"eval_every", 2}};
  // min_delta 100: no evaluation after the first improves, so patience 1 stops at the second evaluation.
  json stopping = job(dir, "stopping", dir / "good.gtok", 10);
  stopping["validation"] = {{"tokens", dir / "val.gtok"}, {"eval_every", 2},
                            {"early_stopping", {{"patience", 1}, {"min_delta", 100}}}};
  engine.send({{"cmd", "add_job"}, {"job", validated}});
  engine.send({{"cmd", "add_job"}, {"job", stopping}});
  json first = engine.next_of("job_finished");
  json second = engine.next_of("job_finished");
  json v = first["id"] == "validated" ? first : second, s = first["id"] == "validated" ? second : first;
  EXPECT_EQ(v["early_stopped"], false);
  EXPECT_EQ(s["early_stopped"], true);
  EXPECT_EQ(s["best_step"], 2);
  std::map<std::string, std::vector<int>> evaluated;
  double first_val = 0;
  for (const auto& e : engine.seen) {
    if (e["event"] != "step" || !e.contains("val_loss")) continue;
    evaluated[e["id"]].push_back(e["step"]);
    if (e["id"] == "stopping" && e["step"] == 2) first_val = e["val_loss"];
  }
  EXPECT_EQ(evaluated["validated"], (std::vector<int>{2, 3}));
  EXPECT_EQ(evaluated["stopping"], (std::vector<int>{2, 4}));
  EXPECT_EQ(s["best_val_loss"].get<double>(), first_val);
  EXPECT_TRUE(v["best_step"] == 2 || v["best_step"] == 3) << v.dump();
  engine.send({{"cmd", "shutdown"}});
  EXPECT_EQ(engine.wait_exit(), 0);
}

TEST(Serve, EofOnStdinShutsDown) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  EngineProcess engine(dir / "model");
  EXPECT_EQ(engine.next()["event"], "ready");
  EXPECT_EQ(engine.wait_exit(), 0);
}

}  // namespace
}  // namespace grove
