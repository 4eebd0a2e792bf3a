#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The C math library, called the way NumPy calls it. Chaotic dynamics (Acrobot) amplify a single
// ulp into a visible difference within a hundred steps, so replaying Gymnasium bit for bit needs
// the same libm functions, not rewritten or fused equivalents.

@inline(__always) func libmCos(_ x: Double) -> Double { cos(x) }
@inline(__always) func libmSin(_ x: Double) -> Double { sin(x) }
@inline(__always) func libmFmod(_ x: Double, _ y: Double) -> Double { fmod(x, y) }
@inline(__always) func libmLog(_ x: Double) -> Double { log(x) }

/// `x ** y` as NumPy and Python compute it: libm `pow`, which differs from `x * x` by one ulp for
/// about 0.1% of inputs. Kept unoptimised so LLVM cannot rewrite `pow(x, 2)` into `x * x`.
@_optimize(none) @inline(never)
func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

/// `x ** y` for NumPy float32 scalars (libm `powf`); unoptimised for the same reason as `libmPow`.
@_optimize(none) @inline(never)
func libmPowf(_ x: Float, _ y: Float) -> Float { powf(x, y) }

/// NumPy's float remainder (`%`): the sign follows the divisor, as in Python.
@inline(__always)
func numpyRemainder(_ a: Double, _ b: Double) -> Double {
    var mod = libmFmod(a, b)
    if b == 0 { return mod }
    if mod != 0 {
        if (b < 0) != (mod < 0) { mod += b }
    } else {
        mod = b < 0 ? -0.0 : 0.0
    }
    return mod
}
