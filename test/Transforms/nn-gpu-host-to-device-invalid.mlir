// RUN: nnc-opt %s -nn-gpu-host-to-device -split-input-file -verify-diagnostics
// A value read from device memory cannot steer the host: here the trip
// count of a host loop that launches kernels.

func.func @bound(%x: memref<64xf32>, %n: memref<index>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %count = memref.load %n[] : memref<index>
  // expected-error @+1 {{--target cuda: uses on the host a value computed on the device}}
  scf.for %i = %c0 to %count step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i] : memref<64xf32>
      gpu.terminator
    }
  }
  return
}

// -----

// A host loop around kernels may carry buffers and host values, not a
// value read from device memory.
func.func @yields(%x: memref<64xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (f32) {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      memref.store %zero, %x[%i] : memref<64xf32>
      gpu.terminator
    }
    %v = memref.load %x[%i] : memref<64xf32>
    // expected-error @+1 {{--target cuda: uses on the host a value computed on the device}}
    scf.yield %v : f32
  }
  return %r : f32
}
