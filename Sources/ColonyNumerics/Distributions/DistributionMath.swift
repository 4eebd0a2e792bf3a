#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scalar helpers shared by the distributions: thin wrappers over libm's single-precision
/// functions plus the numerically stable forms the distributions rely on. Internal and
/// namespaced so they cannot clash with other files of the module.
enum DistributionMath {
    /// ½·log(2π).
    static let halfLogTwoPi: Float = 0.918_938_533_204_672_7
    /// log 2.
    static let logTwo: Float = 0.693_147_180_559_945_3

    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func atanh(_ x: Float) -> Float { atanhf(x) }

    /// softplus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|): never overflows, and
    /// keeps full precision for large negative x.
    @inline(__always) static func softplus(_ x: Float) -> Float {
        Swift.max(x, 0) + log1pf(expf(-Swift.abs(x)))
    }

    /// log(1 − tanh²(u)) = 2·(log 2 − u − softplus(−2u)), finite for every finite u
    /// (the naive form is −∞ once tanh(u) rounds to ±1, i.e. |u| ≳ 9 in Float).
    @inline(__always) static func logOneMinusTanhSquared(_ u: Float) -> Float {
        2 * (logTwo - u - softplus(-2 * u))
    }
}
