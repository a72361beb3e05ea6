//===- Corpus.h - corpus(...) sources: one token stream, windows -*- C++ -*-===//
//
// `corpus(PATH, block = T)` (SPEC 2.9) reads a text file, or every text file
// under a folder (recursively, sorted by path; hidden files, files that hold
// a NUL byte in their first 8 KiB (binary: fortune's .dat indexes) and
// links to a file already read are skipped), as one text per file. Once a
// tokenizer is fitted (on all of it, as nanoGPT's vocabulary is) the texts
// become one stream of ids, the files in order. A sample is a window of T
// ids and its targets the same window shifted by one position (T class
// labels per sample); windows do not overlap: a stream of L ids has
// (L - 1) / T of them. `split(train, f)` takes the tail of the stream:
// validation the last f of it, test the f' before that.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_CORPUS_H
#define NNRT_CORPUS_H

#include "runtime/Dataset.h"
#include "runtime/Tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace nnrt {

/// The text files of corpus(path): the file itself, or every text file
/// under the folder (see above). An nnrt::Error names a missing path or a
/// folder without text files.
std::vector<std::string> corpusFiles(const std::string &path);

/// corpus(path): a Text storage with one sample per file, without targets;
/// `source` is `path`.
Dataset loadCorpusTexts(const std::string &path);

/// The ids of every text of `texts`, in order, as one stream.
std::vector<int32_t> corpusStream(const Tokenizer &tokenizer,
                                  const DatasetStorage &texts);

/// The windows of `block` ids of stream[begin, end), their targets the ids
/// one position later: an I32 storage of shape [block] with `block` class
/// labels (in [0, vocab)) per sample. Fewer than block + 1 ids is an
/// nnrt::Error naming `what` ("corpus.txt: validation split").
std::shared_ptr<const DatasetStorage>
corpusWindows(const std::vector<int32_t> &stream, size_t begin, size_t end,
              int64_t block, int32_t vocab, const std::string &what);

} // namespace nnrt

#endif // NNRT_CORPUS_H
