import Foundation

/// Stamps outgoing messages with one sender's identity and consecutive sequence numbers.
///
/// ```swift
/// var sender = WireSender(senderID: memberID)
/// let message = sender.message(.trajectory, parameterVersion: version, tensors: [observations, actions, rewards])
/// try socket.send(message)
/// ```
public struct WireSender: Sendable {
    /// Random per process start, shared by every sender in the process.
    public static let processRunID: UInt64 = UInt64.random(in: 1...UInt64.max)

    public let runID: UInt64
    public let senderID: UInt64
    /// The sequence number of the next message.
    public private(set) var nextSequence: UInt64 = 0

    public init(senderID: UInt64 = UInt64.random(in: 1...UInt64.max), runID: UInt64 = WireSender.processRunID) {
        self.runID = runID
        self.senderID = senderID
    }

    public mutating func message(_ type: MessageType, parameterVersion: UInt64 = 0, tensors: [WireTensor] = []) -> WireMessage {
        defer { nextSequence &+= 1 }
        return WireMessage(type: type, runID: runID, senderID: senderID, sequence: nextSequence, parameterVersion: parameterVersion, tensors: tensors)
    }

    /// A control message: `payload` as UTF-8 JSON in one u8 tensor.
    public mutating func control<Payload: Encodable>(_ type: MessageType, _ payload: Payload) -> WireMessage {
        message(type, tensors: [WireMessage.jsonTensor(payload)])
    }
}

extension WireMessage {
    /// `payload` encoded as JSON (sorted keys) in a rank-1 u8 tensor. Non-finite doubles cannot be
    /// JSON; payload types keep them out (encoding one is a programming error).
    public static func jsonTensor<Payload: Encodable>(_ payload: Payload) -> WireTensor {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return WireTensor(Array(try encoder.encode(payload)), shape: nil)
        } catch {
            preconditionFailure("control payload \(Payload.self) does not encode as JSON: \(error)")
        }
    }

    /// Decodes a control message's JSON payload; a missing tensor, invalid UTF-8 or a mismatched
    /// object throws `.badControlPayload` (drop and count it like any bad message).
    public func json<Payload: Decodable>(_ payload: Payload.Type) throws(WireError) -> Payload {
        guard tensors.count == 1, tensors[0].dtype == .u8, tensors[0].shape.count == 1 else {
            throw .badControlPayload("\(type) carries no JSON tensor")
        }
        let data = Data(tensors[0].buffer.rawBytes)
        do {
            return try JSONDecoder().decode(Payload.self, from: data)
        } catch let error as DecodingError {
            throw .badControlPayload("\(type): \(Self.summary(of: error))")
        } catch {
            throw .badControlPayload("\(type): \(error)")
        }
    }

    private static func summary(of error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): "not JSON (\(context.debugDescription))"
        case .keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }
}
