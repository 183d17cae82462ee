#include "backend/cuda/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define GROVE_EMU_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GROVE_EMU_HAS_ASAN 1
#endif
#endif
#ifdef GROVE_EMU_HAS_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__) && !defined(GROVE_EMU_UCONTEXT)
// grove_emu_switch(save, load): pushes the callee-saved registers, stores the stack pointer in *save, loads `load`
// and pops the same from there. MXCSR and the x87 control word are not switched (saving them made a switch 3x
// slower): kernels do not change rounding modes. A new fiber's stack is laid out so the
// first switch "returns" into grove_emu_fiber_start, which calls r13(r12).
extern "C" void grove_emu_switch(void** save, void* load);
extern "C" void grove_emu_fiber_start();
asm(R"(
  .pushsection .text
  .globl grove_emu_switch
  .type grove_emu_switch, @function
  .p2align 4
grove_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size grove_emu_switch, .-grove_emu_switch

  .globl grove_emu_fiber_start
  .type grove_emu_fiber_start, @function
  .p2align 4
grove_emu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size grove_emu_fiber_start, .-grove_emu_fiber_start
  .popsection
)");
#endif

namespace grove::cuda::emu {

namespace {

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

Fiber::~Fiber() {
  if (stack_ != nullptr) munmap(stack_ - page_size(), kFiberStackBytes + page_size());
}

void Fiber::allocate_stack() {
  const size_t guard = page_size();
  void* p = mmap(nullptr, kFiberStackBytes + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "grove cuda emu: cannot map a %zu KB fiber stack\n", kFiberStackBytes / 1024);
    std::abort();
  }
  mprotect(p, guard, PROT_NONE);  // a stack overflow faults instead of corrupting the next stack
  stack_ = static_cast<char*>(p) + guard;
  // Stacks are page-aligned, so without an offset every fiber's top frames would fall in the same cache sets and
  // a sweep over 256 fibers would miss the cache at each switch (3x slower).
  static unsigned next_color = 0;
  color_offset_ = (next_color++ % 61) * 64 + 128;
}

void Fiber::reset(FiberEntry entry, void* arg) {
  if (stack_ == nullptr) allocate_stack();
#ifdef GROVE_EMU_HAS_ASAN
  // Frames abandoned on this stack (a kernel that faulted) may have left poisoned redzones behind.
  if (started_) ASAN_UNPOISON_MEMORY_REGION(stack_, kFiberStackBytes);
  fake_stack_ = nullptr;
#endif
  entry_ = entry;
  arg_ = arg;
#if defined(__x86_64__) && !defined(GROVE_EMU_UCONTEXT)
  // Frame popped by the first switch: r15, r14, r13 = start, r12 = this, rbx, rbp = 0, return address =
  // grove_emu_fiber_start. The top stays 16-byte aligned at the call in grove_emu_fiber_start.
  auto* top = reinterpret_cast<uint64_t*>(stack_ + kFiberStackBytes - color_offset_);
  uint64_t* frame = top - 7;
  frame[0] = 0;
  frame[1] = 0;
  frame[2] = reinterpret_cast<uint64_t>(&Fiber::start);
  frame[3] = reinterpret_cast<uint64_t>(this);
  frame[4] = 0;
  frame[5] = 0;
  frame[6] = reinterpret_cast<uint64_t>(&grove_emu_fiber_start);
  sp_ = frame;
#else
  getcontext(&context_);
  context_.uc_stack.ss_sp = stack_;
  context_.uc_stack.ss_size = kFiberStackBytes;
  context_.uc_link = nullptr;
  // makecontext passes ints; split the pointer.
  const auto bits = reinterpret_cast<uintptr_t>(this);
  makecontext(&context_, reinterpret_cast<void (*)()>(+[](unsigned hi, unsigned lo) {
                Fiber::start(reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo));
              }),
              2, static_cast<unsigned>(bits >> 32), static_cast<unsigned>(bits & 0xffffffffu));
#endif
  started_ = true;
}

void Fiber::start(Fiber* self) {
#ifdef GROVE_EMU_HAS_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &self->scheduler_stack_bottom_, &self->scheduler_stack_size_);
#endif
  self->entry_(self->arg_);
  std::fprintf(stderr, "grove cuda emu: a fiber's entry returned\n");
  std::abort();
}

void Fiber::resume() {
#ifdef GROVE_EMU_HAS_ASAN
  __sanitizer_start_switch_fiber(&scheduler_fake_stack_, stack_, kFiberStackBytes);
#endif
#if defined(__x86_64__) && !defined(GROVE_EMU_UCONTEXT)
  grove_emu_switch(&scheduler_sp_, sp_);
#else
  swapcontext(&scheduler_context_, &context_);
#endif
#ifdef GROVE_EMU_HAS_ASAN
  __sanitizer_finish_switch_fiber(scheduler_fake_stack_, nullptr, nullptr);
#endif
}

void Fiber::suspend() {
#ifdef GROVE_EMU_HAS_ASAN
  __sanitizer_start_switch_fiber(&fake_stack_, scheduler_stack_bottom_, scheduler_stack_size_);
#endif
#if defined(__x86_64__) && !defined(GROVE_EMU_UCONTEXT)
  grove_emu_switch(&sp_, scheduler_sp_);
#else
  swapcontext(&context_, &scheduler_context_);
#endif
#ifdef GROVE_EMU_HAS_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_, &scheduler_stack_bottom_, &scheduler_stack_size_);
#endif
}

}  // namespace grove::cuda::emu
