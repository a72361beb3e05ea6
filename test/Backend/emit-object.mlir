// The backend writes a relocatable x86-64 ELF object (PIC), AVX-512 assembly
// for the host CPU, and LLVM IR.
// RUN: nnc-opt %s -nnc-cpu-codegen | nnc-translate --emit=obj -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=NM
// RUN: llvm-readelf -h %t.o | FileCheck %s --check-prefix=ELF
// RUN: nnc-translate %s --codegen --emit=asm -mcpu=znver4 -mattr=+avx512f,+avx512vl,+fma | FileCheck %s --check-prefix=ASM
// RUN: nnc-translate %s --codegen --emit=llvm -O2 | FileCheck %s --check-prefix=IR

// NM: T scale_matmul
// NM-NOT: U
// ELF: Class: ELF64
// ELF: Type: REL (Relocatable file)
// ELF: Machine: Advanced Micro Devices X86-64
// ASM-LABEL: scale_matmul:
// ASM: vfmadd{{[0-9]+}}ps {{.*}}zmm
// IR: define void @scale_matmul(ptr {{.*}}, ptr {{.*}}, ptr {{.*}})
// IR-SAME: #[[ATTRS:[0-9]+]]
// IR: attributes #[[ATTRS]] = {{.*}}"target-cpu"

func.func @scale_matmul(%a: tensor<32x64xf32>, %b: tensor<64x32xf32>) -> tensor<32x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x32xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<32x32xf32>) -> tensor<32x32xf32>
  %y = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x32xf32>)
                     outs(%acc : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %y : tensor<32x32xf32>
}
