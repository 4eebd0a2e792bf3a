import Foundation
import XCTest
@testable import ColonyTransport

final class WireMessageTests: XCTestCase {
    // MARK: Round trips

    func testRoundTripEveryDTypeAndRank() throws {
        let message = WireMessage(type: .parameters, runID: .max, senderID: 1, sequence: 2, parameterVersion: 3, tensors: [
            WireTensor([Float(1.5), -2, 3, 4, 5, 6], shape: [2, 3]),
            WireTensor([Double.pi, -1e300], shape: [2]),
            WireTensor([Int32.min], shape: []),
            WireTensor([Int64](), shape: [2, 0]),
            WireTensor([UInt8](repeating: 9, count: 5), shape: [5]),
            WireTensor([Int64.max, 7], shape: [1, 1, 2]),
        ])
        let decoded = try WireMessage.decode(frames: message.encode())
        XCTAssertEqual(decoded, message)
        XCTAssertEqual(try decoded.tensors[0].floats(), [1.5, -2, 3, 4, 5, 6])
        XCTAssertEqual(try decoded.tensors[1].doubles(), [Double.pi, -1e300])
        XCTAssertEqual(try decoded.tensors[2].int32s(), [Int32.min])
        XCTAssertEqual(try decoded.tensors[3].int64s(), [])
        XCTAssertEqual(try decoded.tensors[4].uint8s(), [9, 9, 9, 9, 9])
        XCTAssertEqual(try decoded.tensors[5].int64s(), [Int64.max, 7])
        XCTAssertEqual(decoded.tensors[0].shape, [2, 3])
        XCTAssertEqual(decoded.tensors[2].shape, [])
        XCTAssertEqual(try decoded.tensors[0].withValues(as: Float.self) { Array($0) }, [1.5, -2, 3, 4, 5, 6])
        XCTAssertThrowsError(try decoded.tensors[0].int32s()) { error in
            XCTAssertEqual(error as? WireError, .wrongDType(expected: .i32, actual: .f32))
        }
    }

    func testRoundTripWithoutTensorsAndWithSchema() throws {
        let bare = WireMessage(type: .episodes, runID: 5, senderID: 6, sequence: 7)
        XCTAssertEqual(try WireMessage.decode(frames: bare.encode()), bare)
        XCTAssertEqual(bare.encode().count, 1)

        let message = trajectory()
        let decoded = try WireMessage.decode(frames: message.encode(), limits: limitsWithTrajectorySchema())
        XCTAssertEqual(decoded, message)
        XCTAssertEqual(try trajectorySchema.validate(decoded), ["T": 5, "N": 3, "obs": 4])
    }

    func testControlMessagesCarryJSON() throws {
        struct Hello: Codable, Equatable { var name: String; var count: Int }
        var sender = WireSender(senderID: 99, runID: 1)
        let message = sender.control(.register, Hello(name: "wörker", count: 3))
        XCTAssertEqual(message.sequence, 0)
        XCTAssertEqual(sender.nextSequence, 1)
        let decoded = try WireMessage.decode(frames: message.encode(), limits: .control())
        XCTAssertEqual(try decoded.json(Hello.self), Hello(name: "wörker", count: 3))
        XCTAssertEqual(decoded.tensors[0].utf8String(), #"{"count":3,"name":"wörker"}"#)

        let notJSON = WireMessage(type: .heartbeat, runID: 1, senderID: 1, sequence: 0, tensors: [WireTensor(utf8: "{oops")])
        XCTAssertThrowsError(try WireMessage.decode(frames: notJSON.encode(), limits: .control()).json(Hello.self)) { error in
            XCTAssertEqual((error as? WireError)?.reason, .badControlPayload)
        }
        let wrongObject = WireMessage(type: .heartbeat, runID: 1, senderID: 1, sequence: 0, tensors: [WireTensor(utf8: #"{"name": 1}"#)])
        XCTAssertThrowsError(try wrongObject.json(Hello.self)) { error in
            XCTAssertEqual((error as? WireError)?.reason, .badControlPayload)
        }
        let notUTF8 = WireMessage(type: .heartbeat, runID: 1, senderID: 1, sequence: 0, tensors: [WireTensor([UInt8(0xFF), 0xFE])])
        XCTAssertThrowsError(try notUTF8.json(Hello.self))
        XCTAssertNil(notUTF8.tensors[0].utf8String())
    }

    func testHeaderBytesAreLittleEndianAsDocumented() throws {
        let message = WireMessage(type: .credit, runID: 0x0102_0304_0506_0708, senderID: 0x11, sequence: 0x22, parameterVersion: 0x33,
                                  tensors: [WireTensor([Int32(2)], shape: [1])])
        let header = message.encode()[0]
        XCTAssertEqual(header.count, 42 + 10 + 4)
        XCTAssertEqual(Array(header[0..<4]), Array("CLNY".utf8))
        XCTAssertEqual(Array(header[4..<6]), [1, 0], "protocol version 1")
        XCTAssertEqual(Array(header[6..<8]), [20, 0], "credit = 20")
        XCTAssertEqual(Array(header[8..<16]), [8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(header[16], 0x11)
        XCTAssertEqual(header[24], 0x22)
        XCTAssertEqual(header[32], 0x33)
        XCTAssertEqual(Array(header[40..<42]), [1, 0], "one tensor")
        XCTAssertEqual(Array(header[42..<44]), [3, 1], "i32, rank 1")
        XCTAssertEqual(Array(header[44..<48]), [1, 0, 0, 0], "dims [1]")
        XCTAssertEqual(Array(header[48..<56]), [4, 0, 0, 0, 0, 0, 0, 0], "4 bytes")
        XCTAssertEqual(message.encode()[1], [2, 0, 0, 0])
    }

    // MARK: Every invalid case, with its reason

    private func assertRejected(_ frames: [[UInt8]], limits: WireLimits = limitsWithTrajectorySchema(), _ expected: WireError,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WireMessage.decode(frames: frames, limits: limits), file: file, line: line) { error in
            XCTAssertEqual(error as? WireError, expected, file: file, line: line)
        }
    }

    func testHeaderFieldsAreValidated() {
        let valid = trajectory().encode()
        assertRejected([], .noFrames)
        var small = WireLimits.default
        small.maximumMessageBytes = 100
        assertRejected(valid, limits: small, .oversize(bytes: valid.reduce(0) { $0 + $1.count }, limit: 100))
        assertRejected([Array(valid[0].prefix(10))] + valid.dropFirst(), .truncatedHeader(needed: 42, actual: 10))

        var frames = valid
        frames[0][0] = UInt8(ascii: "X")
        assertRejected(frames, .badMagic)
        frames = valid
        frames[0].patch(UInt16(2), at: 4)
        assertRejected(frames, .unsupportedVersion(2))
        frames = valid
        frames[0].patch(UInt16(999), at: 6)
        assertRejected(frames, .unknownType(999))
        assertRejected(valid, limits: .control(), .typeNotAccepted(.trajectory))
        var oneTensor = WireLimits.default
        oneTensor.maximumTensors = 1
        assertRejected(valid, limits: oneTensor, .tooManyTensors(count: 3, limit: 1))
        assertRejected(Array(valid.dropLast()), .frameCountMismatch(declared: 3, actual: 2))
        assertRejected(valid + [[1]], .frameCountMismatch(declared: 3, actual: 4))
        assertRejected([valid[0] + [0]] + valid.dropFirst(), .trailingHeaderBytes(expected: valid[0].count, actual: valid[0].count + 1))
        // Cut inside the second descriptor: observations' ends at 42 + 10 + 12 = 64.
        assertRejected([Array(valid[0].prefix(66))] + valid.dropFirst(), .truncatedHeader(needed: 70, actual: 66))
    }

    func testDescriptorsAreValidated() {
        let valid = trajectory().encode()  // observations f32 [6, 3, 4] at 42: dtype, rank, dims 44..<56, length 56..<64
        var frames = valid
        frames[0][42] = 99
        assertRejected(frames, .unknownDType(tensor: 0, raw: 99))
        var flat = WireLimits.default
        flat.maximumRank = 2
        assertRejected(valid, limits: flat, .rankTooHigh(tensor: 0, rank: 3, limit: 2))

        frames = valid
        for offset in [44, 48, 52] { frames[0].patch(UInt32.max, at: offset) }
        assertRejected(frames, .dimensionOverflow(tensor: 0))
        frames = valid
        frames[0].patch(UInt32(1 << 30), at: 44)  // 2^30 × 3 × 4 × 4 bytes: past the 64 MiB limit
        assertRejected(frames, .dimensionOverflow(tensor: 0))

        frames = valid
        frames[0].patch(UInt64(1), at: 56)
        assertRejected(frames, .byteLengthMismatch(tensor: 0, declared: 1, expected: 288))
        frames = valid
        frames[0].patch(UInt32(5), at: 44)  // dims [5, 3, 4] and length 240 agree, but the frame has 288 bytes
        frames[0].patch(UInt64(240), at: 56)
        assertRejected(frames, .frameLengthMismatch(tensor: 0, declared: 240, actual: 288))
        frames = valid
        frames[2].removeLast()
        assertRejected(frames, .frameLengthMismatch(tensor: 1, declared: 60, actual: 59))
    }

    func testNonFiniteNumbersAreRejectedWhereAsked() throws {
        var message = trajectory()
        var observations = try message.tensors[0].floats()
        observations[17] = .nan
        message.tensors[0] = WireTensor(observations, shape: message.tensors[0].shape)
        assertRejected(message.encode(), .nonFinite(tensor: 0, index: 17))
        observations[17] = 0
        observations[70] = -.infinity
        message.tensors[0] = WireTensor(observations, shape: message.tensors[0].shape)
        assertRejected(message.encode(), .nonFinite(tensor: 0, index: 70))

        var doubles = WireMessage(type: .gradient, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor([0, 1, Double.infinity], shape: [3])])
        assertRejected(doubles.encode(), .nonFinite(tensor: 0, index: 2))
        // Per type: a receiver may accept non-finite gradients...
        var lenient = WireLimits.default
        lenient.finiteTypes = []
        XCTAssertNoThrow(try WireMessage.decode(frames: doubles.encode(), limits: lenient))
        // ...and per tensor: a schema can switch the check on or off for one tensor.
        lenient.schemas[.gradient] = MessageSchema(tensors: [.init("g", .f64, ["*"], requireFinite: true)])
        assertRejected(doubles.encode(), limits: lenient, .nonFinite(tensor: 0, index: 2))
        var strict = WireLimits.default
        strict.schemas[.gradient] = MessageSchema(tensors: [.init("g", .f64, ["*"], requireFinite: false)])
        XCTAssertNoThrow(try WireMessage.decode(frames: doubles.encode(), limits: strict))
        // Large tensors: the index is found past the first vectorised block.
        var big = [Float](repeating: 1, count: 5000)
        big[4321] = .nan
        doubles = WireMessage(type: .parameters, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor(big)])
        assertRejected(doubles.encode(), .nonFinite(tensor: 0, index: 4321))
        // The last element of a tail shorter than a block, and the first of a later block in f64.
        var tail = [Float](repeating: 0.5, count: 3001)
        tail[3000] = .infinity
        assertRejected(WireMessage(type: .parameters, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor(tail)]).encode(), .nonFinite(tensor: 0, index: 3000))
        var wide = [Double](repeating: -2, count: 4096)
        wide[2048] = .nan
        wide[4000] = .nan
        assertRejected(WireMessage(type: .parameters, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor(wide)]).encode(), .nonFinite(tensor: 0, index: 2048))
        // Large finite values (exponent just below all ones) pass.
        XCTAssertNoThrow(try WireMessage.decode(frames: WireMessage(type: .parameters, runID: 1, senderID: 1, sequence: 1,
                                                                    tensors: [WireTensor([Float](repeating: .greatestFiniteMagnitude, count: 2048))]).encode()))
    }

    func testSchemaDeclaresNamesDTypesRanksAndDimensionRelations() throws {
        let limits = limitsWithTrajectorySchema()
        func rejected(_ message: WireMessage, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try WireMessage.decode(frames: message.encode(), limits: limits), file: file, line: line) { error in
                guard case .schema(let detail) = error as? WireError else { return XCTFail("\(error)", file: file, line: line) }
                XCTAssertTrue(detail.contains(text), detail, file: file, line: line)
            }
        }
        var message = trajectory(steps: 5, environments: 3, observationSize: 4)
        message.tensors[1] = WireTensor([Int32](repeating: 0, count: 12), shape: [4, 3])  // T = 4, not 5
        rejected(message, contains: "actions")
        message = trajectory()
        message.tensors[2] = WireTensor([Double](repeating: 0, count: 15), shape: [5, 3])
        rejected(message, contains: "rewards (tensor 2) is f64, expected f32")
        message = trajectory()
        message.tensors[2] = WireTensor([Float](repeating: 0, count: 15), shape: [15])
        rejected(message, contains: "rank 1")
        message = trajectory()
        message.tensors.removeLast()
        rejected(message, contains: "needs 3 tensors, has 2")
        rejected(trajectory(steps: 5, environments: 300), contains: "N = 300")
        // The T+1 relation: observations with T rows instead of T+1.
        message = trajectory()
        message.tensors[0] = WireTensor([Float](repeating: 0, count: 5 * 3 * 4), shape: [5, 3, 4])
        rejected(message, contains: "actions (tensor 1) axis 0 is 5, but T = 4")

        var custom = limits
        custom.schemas[.trajectory]!.check = { message, sizes in
            (try? message.tensors[1].int32s().allSatisfy { $0 >= 0 && $0 < 2 }) == true ? nil : "actions outside 0..<2 (T = \(sizes["T"]!))"
        }
        message = trajectory()
        XCTAssertNoThrow(try WireMessage.decode(frames: message.encode(), limits: custom))
        message.tensors[1] = WireTensor([Int32](repeating: 5, count: 15), shape: [5, 3])
        XCTAssertThrowsError(try WireMessage.decode(frames: message.encode(), limits: custom)) { error in
            XCTAssertEqual(error as? WireError, .schema("actions outside 0..<2 (T = 5)"))
        }

        let credit = WireMessage(type: .credit, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor([Int32(0)], shape: [1])])
        XCTAssertThrowsError(try WireMessage.decode(frames: credit.encode())) { error in
            XCTAssertEqual((error as? WireError)?.reason, .schema)
        }
        let controlWithTwoTensors = WireMessage(type: .heartbeat, runID: 1, senderID: 1, sequence: 1, tensors: [WireTensor(utf8: "{}"), WireTensor(utf8: "{}")])
        XCTAssertThrowsError(try WireMessage.decode(frames: controlWithTwoTensors.encode())) { error in
            XCTAssertEqual((error as? WireError)?.reason, .schema)
        }
    }

    func testDimensionLiterals() {
        let dimensions: [MessageSchema.Dimension] = [4, "*", "T", "T+1", "N-2", "obs"]
        XCTAssertEqual(dimensions, [.fixed(4), .any, .symbol("T", offset: 0), .symbol("T", offset: 1), .symbol("N", offset: -2), .symbol("obs", offset: 0)])
        XCTAssertEqual(dimensions.map(\.description), ["4", "*", "T", "T+1", "N-2", "obs"])
    }

    func testDropCounterCountsPerClaimedSenderAndReason() {
        let drops = DropCounter()
        var frames = trajectory(sender: 0x4D2).encode()
        frames[0].patch(UInt16(999), at: 6)
        let claimed = WireMessage.claimedSenderID(header: FrameBuffer(frames[0]))
        XCTAssertEqual(claimed, 0x4D2)
        drops.record(.unknownType(999), sender: claimed)
        drops.record(DropReason.badMagic, sender: WireMessage.claimedSenderID(header: FrameBuffer([1, 2, 3])))
        drops.record(WireError.badMagic, sender: nil)
        XCTAssertEqual(drops.snapshot(), ["00000000000004d2": ["unknown type": 1], "unknown": ["bad magic": 2]])
        XCTAssertEqual(drops.total, 3)
        XCTAssertEqual(drops.count(reason: .badMagic), 2)
        XCTAssertEqual(drops.count(sender: 0x4D2, reason: .unknownType), 1)
    }

    // MARK: Randomized corruption

    /// Flips, truncates and extends random bytes (and adds, drops and swaps frames) of valid messages,
    /// 10,000 times with a fixed seed. Decoding must never crash, and whatever it accepts must be
    /// self-consistent by an independent reading of the header, and re-encode to the same bytes.
    func testRandomCorruptionNeverCrashesNorAcceptsInconsistentMessages() throws {
        var rng = SeededGenerator(seed: 20_240_601)
        var control = WireSender(senderID: 5, runID: 6)
        let originals: [WireMessage] = [
            trajectory(),
            trajectory(steps: 1, environments: 1, observationSize: 1),
            control.control(.heartbeat, ["stats": ["frames_per_second": 12.5]]),
            WireMessage(type: .credit, runID: 1, senderID: 2, sequence: 3, tensors: [WireTensor([Int32(4)], shape: [1])]),
            WireMessage(type: .parameters, runID: 1, senderID: 2, sequence: 3, parameterVersion: 9, tensors: [
                WireTensor([Double](repeating: 0.25, count: 6), shape: [2, 3]), WireTensor([Int64(1)], shape: []), WireTensor([UInt8](), shape: [0]),
            ]),
            WireMessage(type: .episodes, runID: 1, senderID: 2, sequence: 3),
        ]
        var limits = limitsWithTrajectorySchema()
        limits.maximumMessageBytes = 1 << 20
        var accepted = 0
        var reasons: [DropReason: Int] = [:]
        for iteration in 0..<10_000 {
            var frames = originals[Int.random(in: 0..<originals.count, using: &rng)].encode()
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                mutate(&frames, using: &rng)
            }
            do {
                let message = try WireMessage.decode(frames: frames, limits: limits)
                accepted += 1
                try assertConsistent(frames, decoded: message, limits: limits, iteration: iteration)
            } catch let error as WireError {
                reasons[error.reason, default: 0] += 1
            }
        }
        // The test is not vacuous: both outcomes happen and many reasons are exercised.
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(reasons.values.reduce(0, +), 5000)
        XCTAssertGreaterThanOrEqual(reasons.count, 10, "\(reasons)")
    }

    private func mutate(_ frames: inout [[UInt8]], using rng: inout SeededGenerator) {
        let target = frames.isEmpty ? 0 : (Bool.random(using: &rng) ? 0 : Int.random(in: 0..<frames.count, using: &rng))
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...3:  // flip bits, mostly in the header
            guard target < frames.count, !frames[target].isEmpty else { return }
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<frames[target].count, using: &rng)
                frames[target][index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            }
        case 4:  // overwrite a byte with anything
            guard target < frames.count, !frames[target].isEmpty else { return }
            frames[target][Int.random(in: 0..<frames[target].count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 5:  // truncate
            guard target < frames.count else { return }
            frames[target].removeLast(Int.random(in: 0...frames[target].count, using: &rng))
        case 6:  // extend
            guard target < frames.count else { return }
            frames[target] += (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 7:  // drop a frame
            guard !frames.isEmpty else { return }
            frames.remove(at: Int.random(in: 0..<frames.count, using: &rng))
        case 8:  // add a frame
            frames.insert((0..<Int.random(in: 0...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                          at: Int.random(in: 0...frames.count, using: &rng))
        default:  // swap two frames
            guard frames.count >= 2 else { return }
            frames.swapAt(Int.random(in: 0..<frames.count, using: &rng), Int.random(in: 0..<frames.count, using: &rng))
        }
    }

    /// Reads the header again, independently of the decoder, and checks everything it promises.
    private func assertConsistent(_ frames: [[UInt8]], decoded: WireMessage, limits: WireLimits, iteration: Int) throws {
        let context = "iteration \(iteration)"
        let header = frames[0]
        func field<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            var value: T = 0
            for index in 0..<MemoryLayout<T>.size { value |= T(header[offset + index]) << (8 * index) }
            return value
        }
        XCTAssertGreaterThanOrEqual(header.count, 42, context)
        XCTAssertEqual(Array(header[0..<4]), Array("CLNY".utf8), context)
        XCTAssertEqual(field(4, UInt16.self), 1, context)
        XCTAssertEqual(field(6, UInt16.self), decoded.type.rawValue, context)
        let count = Int(field(40, UInt16.self))
        XCTAssertEqual(frames.count, count + 1, context)
        XCTAssertEqual(decoded.tensors.count, count, context)
        var offset = 42
        for index in 0..<count {
            guard let dtype = WireDType(rawValue: header[offset]) else { return XCTFail("unknown dtype accepted, \(context)") }
            let rank = Int(header[offset + 1])
            offset += 2
            var product = 1.0  // in Double: an overflow would show as a huge value rather than wrap
            for axis in 0..<rank {
                let dimension = field(offset + 4 * axis, UInt32.self)
                product *= Double(dimension)
                XCTAssertEqual(decoded.tensors[index].shape[axis], Int(dimension), context)
            }
            offset += 4 * rank
            let length = field(offset, UInt64.self)
            offset += 8
            XCTAssertEqual(product * Double(dtype.size), Double(length), context)
            XCTAssertEqual(UInt64(frames[index + 1].count), length, context)
            XCTAssertEqual(decoded.tensors[index].dtype, dtype, context)
            if dtype.isFloatingPoint && limits.finiteTypes.contains(decoded.type) {
                let finite = dtype == .f32 ? try decoded.tensors[index].floats().allSatisfy(\.isFinite) : try decoded.tensors[index].doubles().allSatisfy(\.isFinite)
                XCTAssertTrue(finite, context)
            }
        }
        XCTAssertEqual(offset, header.count, context)
        if let schema = limits.schemas[decoded.type] { XCTAssertNoThrow(try schema.validate(decoded), context) }
        XCTAssertEqual(decoded.encode(), frames, "accepted bytes must re-encode identically, \(context)")
    }
}
