//===- Frontend.cpp - Loading files, following imports, running sema -------===//
#include "frontend/Frontend.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace nnc {

namespace {

/// Imports deeper than this are certainly a mistake (a cycle is caught
/// earlier, since each file is loaded once).
constexpr unsigned kMaxImportDepth = 64;

class ModuleLoader {
public:
  ModuleLoader(const FrontendOptions &options, SourceManager &sm,
               DiagnosticEngine &diags)
      : options(options), sm(sm), diags(diags) {}

  void load(const std::string &path, SourceRange importedFrom,
            unsigned depth) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    std::string key = ec ? path : canonical.string();
    if (!loaded.insert(key).second)
      return; // already loaded: importing twice, or a cycle, is harmless

    if (fs::is_directory(path, ec)) {
      report(importedFrom, "'" + path + "' is a directory, not a .nn file");
      return;
    }
    std::string error;
    unsigned fileId = sm.addFile(path, error);
    if (!fileId) {
      report(importedFrom, error + ": " + std::strerror(errno ? errno : ENOENT));
      return;
    }
    auto module = parseModule(sm, fileId, diags);
    // Collect the imports before the module moves into the list.
    std::vector<std::pair<std::string, SourceRange>> imports;
    for (const auto &decl : module->decls)
      if (decl->kind == ast::DeclKind::Import)
        imports.emplace_back(decl->path, decl->range);
    modules.push_back(std::move(module));

    for (const auto &[importPath, range] : imports) {
      if (depth + 1 > kMaxImportDepth) {
        diags.error(range, "imports are nested too deeply (more than " +
                               std::to_string(kMaxImportDepth) + " levels)");
        return;
      }
      std::string resolved = resolve(importPath, path);
      if (resolved.empty()) {
        std::string searched;
        for (const std::string &dir : searchDirs(path))
          searched += (searched.empty() ? "'" : ", '") + dir + "'";
        diags.error(range, "cannot find imported file '" + importPath + "'",
                    "searched " + searched + "; add a directory with -I DIR");
        continue;
      }
      load(resolved, range, depth + 1);
    }
  }

  std::vector<std::unique_ptr<ast::Module>> modules;

private:
  void report(SourceRange at, const std::string &message) {
    if (at.isValid())
      diags.error(at, message);
    else
      diags.error(SourceRange(), message);
  }

  /// The importing file's folder ('.' when it has none), then each -I
  /// folder, without repeats.
  std::vector<std::string> searchDirs(const std::string &importer) const {
    std::vector<std::string> dirs;
    std::string own = fs::path(importer).parent_path().string();
    dirs.push_back(own.empty() ? "." : own);
    for (const std::string &dir : options.includeDirs) {
      std::error_code ec;
      bool same = false;
      for (const std::string &d : dirs)
        same |= d == dir || fs::equivalent(d, dir, ec);
      if (!same)
        dirs.push_back(dir);
    }
    return dirs;
  }

  /// Relative to the importing file's folder first, then each -I folder.
  std::string resolve(const std::string &importPath,
                      const std::string &importer) const {
    std::error_code ec;
    fs::path p(importPath);
    if (p.is_absolute())
      return fs::is_regular_file(p, ec) ? p.string() : std::string();
    for (const std::string &dir : searchDirs(importer)) {
      fs::path candidate = dir / p;
      if (fs::is_regular_file(candidate, ec))
        return candidate.string();
    }
    return {};
  }

  const FrontendOptions &options;
  SourceManager &sm;
  DiagnosticEngine &diags;
  std::set<std::string> loaded;
};

} // namespace

std::vector<std::unique_ptr<ast::Module>>
loadModules(const FrontendOptions &options, SourceManager &sm,
            DiagnosticEngine &diags) {
  ModuleLoader loader(options, sm, diags);
  loader.load(options.mainFile, SourceRange(), 0);
  return std::move(loader.modules);
}

FrontendResult runFrontend(const FrontendOptions &options, SourceManager &sm,
                           DiagnosticEngine &diags) {
  FrontendResult result;
  result.modules = loadModules(options, sm, diags);
  if (result.modules.empty() || diags.hasErrors())
    return result;
  std::vector<const ast::Module *> modules;
  for (const auto &m : result.modules)
    modules.push_back(m.get());
  result.program =
      analyzeProgram(modules, sm, diags, options.batch, options.distributed);
  return result;
}

} // namespace nnc
