import Synchronization

/// How a process's sockets authenticate on tcp:// endpoints (CurveZMQ). Every member of a run holds
/// the run's server public key and its own member key pair; members that bind (coordinator, learner,
/// replay server) also hold the server secret. A binding socket admits only clients whose public
/// keys are in `authorizedKeys` (the run's `authorized/` directory), checked by the context's ZAP
/// handler. ipc:// and inproc:// endpoints are not encrypted: the file system and the process guard them.
public struct CurveSecurity: Sendable, Equatable {
    public let serverPublicKey: String
    /// The run's server pair; nil for members that only connect (workers).
    public let server: CurveKeyPair?
    public let member: CurveKeyPair
    public let authorizedKeys: Set<String>

    public init(serverPublicKey: String, server: CurveKeyPair?, member: CurveKeyPair, authorizedKeys: Set<String>) throws {
        guard CurveKeyPair.isValidKey(serverPublicKey) else { throw CurveKeyError("the server public key is not a CurveZMQ key") }
        if let server, server.publicKey != serverPublicKey {
            throw CurveKeyError("the server key pair does not match the server public key")
        }
        self.serverPublicKey = serverPublicKey
        self.server = server
        self.member = member
        self.authorizedKeys = authorizedKeys
    }

    /// Whether `endpoint` is one CURVE protects (network transports).
    static func applies(to endpoint: String) -> Bool {
        endpoint.hasPrefix("tcp://")
    }

    // The process's security, set once by an executable before it creates any context; contexts made
    // without an explicit choice take it, so every role of a process shares one setting.
    private static let installed = Mutex<CurveSecurity?>(nil)

    /// The security new contexts take by default (nil: none installed, sockets are plain).
    public static var processDefault: CurveSecurity? { installed.withLock { $0 } }

    /// Makes `security` the default of every context this process creates from now on.
    public static func installForProcess(_ security: CurveSecurity?) {
        installed.withLock { $0 = security }
    }
}
