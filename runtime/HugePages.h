//===- HugePages.h - large sample stores on 2 MiB pages ----------*- C++ -*-===//
//
// A shuffled epoch reads samples from all over a dataset's features: with
// 4 KiB pages, every sample of a store larger than what the TLB maps (12 MiB
// on Zen 4) costs a page walk (Fashion-MNIST's 47 MB: training the MLP at
// batch 256 on one core spent ~4% of its time there). Stores reserved
// through reserveHugePages are backed by 2 MiB pages where the kernel allows
// it (transparent huge pages in `madvise` or `always` mode).
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_HUGEPAGES_H
#define NNRT_HUGEPAGES_H

#include <cstddef>
#include <vector>

namespace nnrt {

/// Asks the kernel to back the whole 2 MiB pages inside `bytes` at `p` by
/// huge pages when they are first touched (MADV_HUGEPAGE); best effort:
/// nothing happens where it is not supported.
void adviseHugePages(const void *p, size_t bytes);

/// Reserves room for `n` elements in the empty `v` (fresh memory, untouched)
/// and advises huge pages for it: the elements then fill it on 2 MiB pages.
template <class T> void reserveHugePages(std::vector<T> &v, size_t n) {
  v.reserve(n);
  adviseHugePages(v.data(), n * sizeof(T));
}

/// `v` (empty) as `n` zeros on huge pages (reserveHugePages), for loaders
/// that write the samples in place.
template <class T> void zerosOnHugePages(std::vector<T> &v, size_t n) {
  reserveHugePages(v, n);
  v.assign(n, T());
}

} // namespace nnrt

#endif // NNRT_HUGEPAGES_H
