#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// In-place kernels over raw buffers, shared by `Tensor` and `MLP` so both compute the very
/// same activations.
enum VectorMath {
    /// tanh by Eigen's rational approximation (`generic_fast_tanh_float`, as TensorFlow's CPU
    /// kernels use): a 13/6-degree odd/even rational function of the input clamped to [-9, 9].
    /// Why not libm's `tanhf`: at ~13 ns a call it alone would take most of the batch-256
    /// training-step budget; this loop vectorises to ~1.5 ns per element with SSE and stays
    /// within 4e-7 of tanh (tests bound it by 1e-6). Odd symmetry is exact; NaN stays NaN.
    /// The scalar loop is deliberate: LLVM vectorises it better than hand-written SIMD8 code,
    /// and without FMA contraction the vector body and scalar tail round identically.
    static func tanh(_ values: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count {
            let input = values[index]
            let x = input < -9 ? -9 : (input > 9 ? 9 : input)
            let x2 = x * x
            var p = x2 * -2.76076847742355e-16 + 2.00018790482477e-13
            p = x2 * p + -8.60467152213735e-11
            p = x2 * p + 5.12229709037114e-08
            p = x2 * p + 1.48572235717979e-05
            p = x2 * p + 6.37261928875436e-04
            p = x2 * p + 4.89352455891786e-03
            p = x * p
            var q = x2 * 1.19825839466702e-06 + 1.18534705686654e-04
            q = x2 * q + 2.26843463243900e-03
            q = x2 * q + 4.89352518554385e-03
            // The rational function overshoots 1 by a few ulp near ±9; tanh never does.
            let ratio = p / q
            let result = ratio < -1 ? -1 : (ratio > 1 ? 1 : ratio)
            values[index] = input.isNaN ? input : result
        }
    }

    static func relu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        // `< 0` rather than `max(_, 0)`: NaN passes through, as in torch.relu.
        // Branch-free select so the loop vectorises (a `where` filter compiled to scalar branches).
        for index in 0..<count {
            let x = values[index]
            values[index] = x < 0 ? 0 : x
        }
    }

    /// Lane-wise square root, correctly rounded like `Float.squareRoot()`, so lane for lane the
    /// same result. Why not `SIMD8.squareRoot()`: it compiles to eight scalar square roots, each
    /// behind a branch to libm's `sqrtf` for negative input (errno), which made Adam's step over a
    /// 67k-parameter Q-network cost ten times its memory traffic. Two SSE `sqrtps` instead.
    @inline(__always) static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
        SIMD8(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
        #else
        x.squareRoot()
        #endif
    }

    /// Σ xᵢ² accumulated in Double. Each square is exact in Double; sixteen lanes accumulate
    /// independently (a single running sum is one long chain of dependent adds, ~14× slower), so
    /// the summation order differs from a serial loop by far less than a Float's rounding.
    static func sumOfSquares(_ values: UnsafeBufferPointer<Float>) -> Double {
        guard let base = values.baseAddress else { return 0 }
        var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
        let end = values.count & ~15
        var index = 0
        while index < end {
            let x = UnsafeRawPointer(base + index).loadUnaligned(as: SIMD16<Float>.self)
            let d0 = SIMD4<Double>(x.lowHalf.lowHalf), d1 = SIMD4<Double>(x.lowHalf.highHalf)
            let d2 = SIMD4<Double>(x.highHalf.lowHalf), d3 = SIMD4<Double>(x.highHalf.highHalf)
            a0 += d0 * d0
            a1 += d1 * d1
            a2 += d2 * d2
            a3 += d3 * d3
            index += 16
        }
        var sum = ((a0 + a1) + (a2 + a3)).sum()
        while index < values.count {
            sum += Double(base[index]) * Double(base[index])
            index += 1
        }
        return sum
    }

    /// Runs `body` with subnormal floats flushed to zero, as inputs and as results (SSE's DAZ and
    /// FTZ bits), then restores the caller's floating-point environment: TensorFlow's
    /// `ScopedFlushDenormal`, PyTorch's `set_flush_denormal(True)`, scoped to one loop. Elsewhere
    /// than Linux on x86-64 it just runs `body`.
    ///
    /// Subnormal operands cost a microcode assist each, tens of cycles. Adam needs this: see there.
    static func withSubnormalsFlushedToZero<R>(_ body: () throws -> R) rethrows -> R {
        #if os(Linux) && arch(x86_64)
        var saved = fenv_t()
        fegetenv(&saved)
        var flushing = saved
        flushing.__mxcsr |= 0x8040  // FTZ (bit 15) | DAZ (bit 6)
        fesetenv(&flushing)
        defer { fesetenv(&saved) }
        #endif
        return try body()
    }

    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}
