//===- HugePages.cpp - large sample stores on 2 MiB pages -----------------===//
#include "runtime/HugePages.h"

#include <sys/mman.h>

#include <cstdint>

namespace nnrt {

void adviseHugePages(const void *p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  uintptr_t first = reinterpret_cast<uintptr_t>(p);
  uintptr_t begin = (first + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (first + bytes) & ~(kHuge - 1);
  if (p && end > begin)
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace nnrt
