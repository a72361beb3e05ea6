//===- SemaTokens.cpp - Text sources, tokenize { }, i32 model inputs ------===//
//
// A model input `tokens: i32[T]` takes token ids: from a text(...) source
// through `tokenize { bytes | words(vocab = N) | bpe(vocab = N); pad(T) }`, or
// from a CSV of integer ids (one column per token). Ids reach the model
// unchanged, so no step that computes on feature values may touch them.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

namespace nnc {
namespace sema {

void Sema::analyzeTokenize(const ast::Stmt *section, Dataset &ds) {
  // A corpus is text too: one stream cut into windows of `block` tokens.
  bool corpus = ds.train.kind == SourceKind::Corpus;
  SourceKind kind = corpus ? SourceKind::Corpus : SourceKind::Text;
  checkSourceKinds(ds, kind);
  SourceRange where = sourceSection(
      section, ds, kind, "tokenize",
      corpus ? "add 'tokenize { bytes }' or 'tokenize { bpe(vocab = 2000) }'"
             : "add 'tokenize { words(vocab = 20000); pad(200) }' or "
               "'tokenize { bytes; pad(256) }'");
  if (!where.isValid())
    return;
  Tokenize &tk = ds.tokenize;
  bool attempted = false; // a tokenizer was written, usable or not
  for (const auto &sp : section->body) {
    if (!sp)
      continue;
    const ast::Stmt &st = *sp;
    if (st.kind != ast::StmtKind::Expr || !st.value) {
      error(st.range, "expected a tokenize step call in 'tokenize'",
            "write 'bytes', 'words(vocab = N)', 'bpe(vocab = N)' or 'pad(T)'");
      attempted = true; // no second error about a missing tokenizer
      continue;
    }
    // A tokenizer call that fails to bind was still meant as the tokenizer.
    attempted |= st.value->text != "pad";
    BoundCall bc;
    if (!bindSetting(Category::Tokenize, st.value.get(), bc))
      continue;
    const std::string &name = bc.sig->name;
    if (name == "pad" && corpus) {
      error(bc.range,
            "a corpus is cut into windows of block = " +
                std::to_string(ds.train.block) + " tokens, not padded",
            "remove pad(...); the block of corpus(...) sets the length");
      continue;
    }
    if (name == "pad") {
      if (tk.length > 0) {
        error(bc.range, "'pad' is given twice in 'tokenize'");
        note(tk.padRange, "the first 'pad' is here");
        continue;
      }
      tk.length = bc.integer("length");
      tk.padRange = bc.range;
      continue;
    }
    if (tk.kind != TokenizerKind::None) {
      error(bc.range, "a second tokenizer '" + name +
                          "': a dataset has one tokenizer, here '" +
                          toString(tk.kind) + "'");
      continue;
    }
    tk.range = bc.range;
    if (name == "bytes") {
      tk.kind = TokenizerKind::Bytes;
      tk.vocab = 257; // byte + 1; 0 pads
    } else if (name == "bpe") {
      // The vocabulary's upper bound depends on the training text; the
      // runtime says which vocab fits when SentencePiece refuses.
      tk.kind = TokenizerKind::Bpe;
      tk.vocab = bc.integer("vocab");
    } else {
      tk.kind = TokenizerKind::Words;
      tk.vocab = bc.integer("vocab");
      tk.lowercase = bc.flag("lowercase");
    }
  }
  if (tk.kind == TokenizerKind::None && !attempted)
    error(where, "'tokenize' names no tokenizer",
          "add 'bytes', 'words(vocab = N)' or 'bpe(vocab = N)'");
  if (corpus)
    tk.length = ds.train.block;
  if (tk.length == 0)
    error(where,
          "'tokenize' needs pad(T): the model takes a fixed number of tokens",
          "add 'pad(200)' to pad or cut every sample to 200 tokens");
}

void Sema::checkTokenInput(const Model &m, const Dataset &ds,
                           SourceRange dataRange) {
  const TensorType &in = m.inputType;
  const Tokenize &tk = ds.tokenize;
  bool ids = in.elem == ElemType::I32;
  if (tk.kind != TokenizerKind::None && tk.length > 0) {
    TensorType tokens{ElemType::I32, {tk.length}};
    if (in != tokens) {
      error(dataRange,
            "dataset '" + ds.name + "' yields token ids " + toString(tokens) +
                " but model '" + m.name + "' takes " + toString(in),
            "declare the model's input as '" + m.inputName + ": " +
                toString(tokens) + "'");
      if (ds.train.kind == SourceKind::Corpus)
        note(ds.train.range, "block = " + std::to_string(tk.length) +
                                 " sets the number of tokens here");
      else
        note(tk.padRange, "pad(" + std::to_string(tk.length) +
                              ") sets the number of tokens here");
    }
    // Every id the tokenizer makes must have a row (SPEC 2.7).
    for (const Node &n : m.nodes)
      if (n.kind == LayerKind::Embedding && n.attrs.count < tk.vocab) {
        error(n.range,
              "embedding(" + std::to_string(n.attrs.count) +
                  ") has fewer rows than the " + toString(tk.kind) +
                  " tokenizer's " + std::to_string(tk.vocab) +
                  " ids of dataset '" + ds.name + "'",
              "write embedding(" + std::to_string(tk.vocab) + ", ...)");
        note(tk.range, "the tokenizer is here");
      }
  } else if (ids && (ds.train.kind == SourceKind::Idx ||
                     ds.train.kind == SourceKind::Images)) {
    error(dataRange,
          "model '" + m.name + "' takes token ids " + toString(in) +
              " but dataset '" + ds.name + "' yields images",
          "token ids come from text(...) with tokenize { }, or from a CSV of "
          "integer ids");
  }
  if (!ids)
    return;
  // clip acts after preprocessing, like the preprocess steps; one_hot acts
  // on the targets only.
  std::vector<const DataOp *> rejected;
  for (const DataOp &op : ds.clean)
    if (op.kind == DataOpKind::Clip)
      rejected.push_back(&op);
  for (const DataOp &op : ds.preprocess)
    if (op.kind != DataOpKind::OneHot)
      rejected.push_back(&op);
  for (const DataOp &op : ds.augment)
    rejected.push_back(&op);
  for (const DataOp *op : rejected) {
    error(op->range,
          std::string("'") + toString(op->kind) +
              "' does not apply to token ids: dataset '" + ds.name +
              "' feeds the input " + toString(in) + " of model '" + m.name +
              "'",
          "token ids reach the model unchanged; remove this step");
    if (op == rejected.front())
      note(dataRange, "the run uses dataset '" + ds.name + "' here");
  }
}

} // namespace sema
} // namespace nnc
