/// A scalar tagged with the type NumPy 2 would give it, for the few Gymnasium environments whose
/// float32 arithmetic matters (MountainCarContinuous stores a float32 state after each step).
///
/// NumPy 2 promotion (NEP 50): float32 with float32 or a Python number stays float32 (the Python
/// number is cast to float32 first, for comparisons too); float32 with float64 gives float64;
/// Python numbers with float64 or each other compute in double.
struct NumPyScalar {
    enum Kind { case float32, float64, python }

    var value: Double
    var kind: Kind

    static func float32(_ value: Float) -> NumPyScalar { NumPyScalar(value: Double(value), kind: .float32) }
    static func float64(_ value: Double) -> NumPyScalar { NumPyScalar(value: value, kind: .float64) }
    static func python(_ value: Double) -> NumPyScalar { NumPyScalar(value: value, kind: .python) }

    /// The type of `a op b`.
    @inline(__always)
    static func resultKind(_ a: Kind, _ b: Kind) -> Kind {
        switch (a, b) {
        case (.float64, _), (_, .float64): return .float64
        case (.float32, _), (_, .float32): return .float32
        default: return .python
        }
    }

    @inline(__always)
    static func apply(
        _ a: NumPyScalar, _ b: NumPyScalar,
        _ single: (Float, Float) -> Float, _ double: (Double, Double) -> Double
    ) -> NumPyScalar {
        let kind = resultKind(a.kind, b.kind)
        if kind == .float32 {
            return NumPyScalar(value: Double(single(Float(a.value), Float(b.value))), kind: .float32)
        }
        return NumPyScalar(value: double(a.value, b.value), kind: kind)
    }

    static func + (a: NumPyScalar, b: NumPyScalar) -> NumPyScalar { apply(a, b, +, +) }
    static func - (a: NumPyScalar, b: NumPyScalar) -> NumPyScalar { apply(a, b, -, -) }
    static func * (a: NumPyScalar, b: NumPyScalar) -> NumPyScalar { apply(a, b, *, *) }

    /// Compares in the precision NumPy would: float32 when neither side is float64 and one is float32.
    @inline(__always)
    static func compare(_ a: NumPyScalar, _ b: NumPyScalar, _ single: (Float, Float) -> Bool, _ double: (Double, Double) -> Bool) -> Bool {
        resultKind(a.kind, b.kind) == .float32
            ? single(Float(a.value), Float(b.value)) : double(a.value, b.value)
    }

    static func < (a: NumPyScalar, b: NumPyScalar) -> Bool { compare(a, b, <, <) }
    static func > (a: NumPyScalar, b: NumPyScalar) -> Bool { compare(a, b, >, >) }
    static func >= (a: NumPyScalar, b: NumPyScalar) -> Bool { compare(a, b, >=, >=) }
    static func == (a: NumPyScalar, b: NumPyScalar) -> Bool { compare(a, b, ==, ==) }
}
