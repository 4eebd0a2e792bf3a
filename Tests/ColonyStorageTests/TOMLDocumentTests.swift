import XCTest
@testable import ColonyStorage

final class TOMLDocumentTests: XCTestCase {
    func testReadsTheConfigurationSubset() throws {
        let text = """
        # IMPALA on CartPole
        agent = "impala"   # trailing comment
        frames = 1_000_000
        learning_rate = 6e-4
        gamma = 0.99
        normalize = true
        hidden = [64,
                  64]   # spans lines
        name = 'literal \\ kept'
        escaped = "tab\\tquote\\" \\u00e9"

        [learner]
        batch_size = 8
        "quoted key" = -3

        [worker.env]
        count = 4
        neg_inf = -inf
        """
        let doc = try TOMLDocument(parsing: text)
        XCTAssertEqual(doc["agent"], .string("impala"))
        XCTAssertEqual(doc["frames"], .int(1_000_000))
        XCTAssertEqual(doc["learning_rate"], .double(6e-4))
        XCTAssertEqual(doc["normalize"], .bool(true))
        XCTAssertEqual(doc["hidden"], .array([.int(64), .int(64)]))
        XCTAssertEqual(doc["name"], .string("literal \\ kept"))
        XCTAssertEqual(doc["escaped"], .string("tab\tquote\" é"))
        XCTAssertEqual(doc["learner.batch_size"], .int(8))
        XCTAssertEqual(doc["learner.quoted key"], .int(-3))
        XCTAssertEqual(doc["worker.env.count"], .int(4))
        XCTAssertEqual(doc["worker.env.neg_inf"], .double(-.infinity))
        XCTAssertEqual(doc.table("learner").map(\.key), ["batch_size", "quoted key"])
        XCTAssertEqual(doc.table("").count, 8)
        XCTAssertEqual(doc.tableNames, ["learner", "worker.env"])
    }

    func testMalformedInputNamesTheLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nb 2\n", 2, "expected '='"),
            ("a = \"open\n", 1, "unterminated string"),
            ("a = 1\na = 2\n", 2, "defined twice"),
            ("a = {x = 1}\n", 1, "inline tables"),
            ("a = hello\n", 1, "strings need quotes"),
            ("a = 1 2\n", 1, "one key = value per line"),
            ("[[runs]]\n", 1, "arrays of tables"),
            ("a = [1, 2\n", 2, "unterminated array"),
            ("a =\n", 1, "expected a value"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try TOMLDocument(parsing: text, source: "x.toml"), text) { error in
                guard let error = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.line, line, "\(text): \(error)")
                XCTAssertTrue(error.description.contains(fragment), "\(text): \(error)")
                XCTAssertTrue(error.description.hasPrefix("x.toml:\(line):"), "\(error)")
            }
        }
    }

    func testMissingFileIsAClearError() {
        XCTAssertThrowsError(try TOMLDocument(contentsOfFile: "/nonexistent/colony.toml")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/colony.toml"))
        }
    }
}
