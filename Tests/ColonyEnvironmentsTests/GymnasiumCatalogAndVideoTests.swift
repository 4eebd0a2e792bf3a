import ColonyEnvironments
import ColonyTestSupport
import Foundation
import XCTest

/// `colony envs --gym`'s catalog and `colony eval --render`'s videos, against the real venv.
final class GymnasiumCatalogAndVideoTests: XCTestCase {
    private func python() throws -> String {
        guard let python = EnvironmentHostTesting.python else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        return python
    }

    func testTheCatalogListsWhatTheVenvInstalled() throws {
        let catalog = try GymnasiumCatalog.installed(python: try python())
        XCTAssertTrue(catalog.gymnasiumVersion.hasPrefix("1."), catalog.gymnasiumVersion)
        XCTAssertTrue(catalog.ids.contains("CartPole-v1"))
        XCTAssertTrue(catalog.ids.contains("ALE/Pong-v5"), "make envhost installs ale-py")
        XCTAssertTrue(catalog.ids.contains { $0.hasPrefix("MiniGrid-") }, "and minigrid")
        XCTAssertNotNil(catalog.packages["ale_py"] ?? nil)
    }

    func testAMissingInterpreterIsOneClearError() {
        XCTAssertThrowsError(try GymnasiumCatalog.installed(python: "/nonexistent/python3")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/python3"), "\(error)")
            XCTAssertTrue("\(error)".contains("make envhost"), "\(error)")
        }
    }

    /// An image environment's frames go into an mp4 and a GIF that imageio reads back frame for frame.
    func testRGBFramesOfAnEnvironmentBecomeAVideo() throws {
        var settings = EnvironmentSettings(id: "gym:CartPole-v1")
        settings.python = try python()
        let environments = try VectorEnvironments.make(settings, count: 1, seed: 5, renderMode: "rgb_array")
        XCTAssertThrowsError(try VectorEnvironments.make(settings, count: 1, seed: 5, renderMode: "ansi")) {
            XCTAssertTrue("\($0)".contains("rgb_array"), "CartPole offers rgb_array only: \($0)")
        }
        let directory = NSTemporaryDirectory() + "colony-video-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["episode.mp4", "episode.gif"] {
            let video = try VideoRecorder(path: directory + "/" + name, fps: 20, python: settings.python)
            var distinct = Set<Int>()
            for step in 0..<12 {
                guard case .image(let width, let height, let rgb) = try environments.renderFrame(0) else { return XCTFail("not an image") }
                XCTAssertEqual([width, height], [600, 400])
                distinct.insert(rgb.hashValue)
                try video.append(width: width, height: height, rgb: rgb)
                try environments.step(discrete: [step % 2])
            }
            XCTAssertGreaterThan(distinct.count, 1, "the pole moves")
            try video.finish()
            XCTAssertEqual(video.frames, 12)
            let check = Process()
            check.executableURL = URL(fileURLWithPath: settings.python!)
            check.arguments = ["-c", "import imageio.v2 as i, sys; f = i.mimread(sys.argv[1]); print(len(f), f[0].shape)", directory + "/" + name]
            let output = Pipe()
            check.standardOutput = output
            try check.run()
            check.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(text.contains("(400, 600, 3)"), "\(name): \(text)")
            XCTAssertEqual((try FileManager.default.contentsOfDirectory(atPath: directory)).filter { $0.contains("partial") }, [], "no temporary file left")
        }
        XCTAssertThrowsError(try VideoRecorder(path: directory + "/episode.avi")) { XCTAssertTrue("\($0)".contains(".mp4 or .gif")) }
    }
}
