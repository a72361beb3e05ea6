# lit configuration for nnc's compiler tests (Frontend/, IR/, Transforms/, ...).
import os

import lit.formats

config.name = "nnc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".nn", ".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nnc_obj_root, "test")

# nnc and nnc-opt from this build, FileCheck/not/count from LLVM 19.
path = os.pathsep.join([config.nnc_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ.get("PATH", ""))])
config.environment["PATH"] = path
# Every compile of the suite goes through the object cache
# (backend/ObjectCache.h), one of this build's own: the same examples compiled
# by many tests link the same objects, taken from it after the first.
config.environment["NNC_CACHE_DIR"] = os.path.join(config.nnc_obj_root, "test", "object-cache")
config.substitutions.append(("%examples", os.path.join(config.nnc_src_root, "examples")))
config.substitutions.append(("%python", config.python_executable))
# nnc by its path, for tests that run it with another PATH.
config.substitutions.append(("%nnc_path", os.path.join(config.nnc_tools_dir, "nnc")))
# nnc links programs with lld in process (built with liblld-19-dev).
if config.nnc_in_process_lld:
    config.available_features.add("in-process-lld")
# A stand-in for libcuda.so.1 (test/runtime/fake_cuda): device memory is host
# memory and kernels do nothing.
config.substitutions.append(("%fake_cuda", os.path.join(config.nnc_obj_root, "lib", "libnnrt_fake_cuda.so")))
