// Stackful fibers for the emulator: one per CUDA thread of a block, switched by the scheduler. On x86-64 a switch
// saves the callee-saved registers and swaps stacks (a few ns); elsewhere, or with -DGROVE_EMU_UCONTEXT, it uses
// ucontext (a syscall per switch: about 8x slower). Under AddressSanitizer every switch is announced to it, so
// stack checks stay exact.
#pragma once

#include <cstddef>

#if !defined(__x86_64__) || defined(GROVE_EMU_UCONTEXT)
#include <ucontext.h>
#endif

namespace grove::cuda::emu {

using FiberEntry = void (*)(void* arg);

class Fiber {
 public:
  Fiber() = default;
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  ~Fiber();

  // Makes the fiber start `entry(arg)` at its next resume, dropping whatever it was running.
  void reset(FiberEntry entry, void* arg);
  // Scheduler side: runs the fiber until it calls suspend().
  void resume();
  // Fiber side: returns to the scheduler; returns when resumed again.
  void suspend();

 private:
  static void start(Fiber* self);
  void allocate_stack();

  FiberEntry entry_ = nullptr;
  void* arg_ = nullptr;
  char* stack_ = nullptr;  // lowest usable byte; a guard page lies below it
  size_t color_offset_ = 0;  // the stack starts this far below its top (see allocate_stack)
  bool started_ = false;
#if defined(__x86_64__) && !defined(GROVE_EMU_UCONTEXT)
  void* sp_ = nullptr;
  void* scheduler_sp_ = nullptr;
#else
  ucontext_t context_{};
  ucontext_t scheduler_context_{};
#endif
  void* fake_stack_ = nullptr;            // ASan's fake stack of the fiber while switched out
  void* scheduler_fake_stack_ = nullptr;  // ... and of the scheduler while the fiber runs
  const void* scheduler_stack_bottom_ = nullptr;
  size_t scheduler_stack_size_ = 0;
};

// Stack of each fiber. Kernels here keep WMMA tiles whole in every thread (1 KB per float fragment) and ASan adds
// redzones, so this is generous; untouched pages cost nothing.
constexpr size_t kFiberStackBytes = 256 * 1024;

}  // namespace grove::cuda::emu
