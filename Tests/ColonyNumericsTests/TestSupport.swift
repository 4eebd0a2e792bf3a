import ColonyNumerics
import XCTest

/// |actual − expected| ≤ absolute + relative · max(|actual|, |expected|), element by element.
func assertApproximatelyEqual(
    _ actual: [Float], _ expected: [Float], absolute: Float = 1e-6, relative: Float = 1e-5,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "counts differ " + message(), file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        let tolerance = absolute + relative * max(abs(a), abs(e))
        if !(abs(a - e) <= tolerance) {
            XCTFail("element \(index): \(a) vs expected \(e) (tolerance \(tolerance)) " + message(), file: file, line: line)
            return
        }
    }
}

func assertApproximatelyEqual(
    _ actual: Float, _ expected: Float, absolute: Float = 1e-6, relative: Float = 1e-5,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertApproximatelyEqual([actual], [expected], absolute: absolute, relative: relative, message(), file: file, line: line)
}

extension RandomSource {
    mutating func normals(_ count: Int) -> [Float] {
        (0..<count).map { _ in normal() }
    }
}
