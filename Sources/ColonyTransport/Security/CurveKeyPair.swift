import CZeroMQ

/// A CurveZMQ key pair in Z85 text (40 characters each), as libzmq's socket options and Colony's key
/// files hold it. The secret half never leaves the process except into a file readable by its user only.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    /// A fresh pair from libzmq (libsodium's randomness).
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else {
            throw ZMQError(function: "zmq_curve_keypair", detail: "this libzmq was built without CURVE (libsodium)")
        }
        return CurveKeyPair(checkedPublic: text(publicKey), secret: text(secretKey))
    }

    /// A pair read from a file: both keys must be valid Z85 and the public key must belong to the secret one.
    public init(publicKey: String, secretKey: String) throws {
        guard Self.isValidKey(publicKey), Self.isValidKey(secretKey) else {
            throw CurveKeyError("a CurveZMQ key is 40 Z85 characters")
        }
        guard Self.publicKey(ofSecret: secretKey) == publicKey else {
            throw CurveKeyError("the public key does not belong to the secret key")
        }
        self.init(checkedPublic: publicKey, secret: secretKey)
    }

    private init(checkedPublic: String, secret: String) {
        publicKey = checkedPublic
        secretKey = secret
    }

    /// True for 40 characters that decode to 32 bytes.
    public static func isValidKey(_ text: String) -> Bool {
        guard text.utf8.count == 40 else { return false }
        var bytes = [UInt8](repeating: 0, count: 32)
        return text.withCString { zmq_z85_decode(&bytes, $0) } != nil
    }

    /// The public key of a secret key (nil when the secret is not a key).
    static func publicKey(ofSecret secret: String) -> String? {
        var publicKey = [CChar](repeating: 0, count: 41)
        guard isValidKey(secret), secret.withCString({ zmq_curve_public(&publicKey, $0) }) == 0 else { return nil }
        return text(publicKey)
    }

    /// A NUL-terminated C string from libzmq as text.
    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Z85 text of 32 raw key bytes, as a ZAP request carries a client's key.
    static func z85(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, bytes, 32) != nil else { return nil }
        return Self.text(text)
    }
}

/// A key that cannot be used, with what is wrong with it.
public struct CurveKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
