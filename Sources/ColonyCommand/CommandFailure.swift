import ArgumentParser
import Foundation

/// Runs a command body; an error becomes one line on standard error and exit status 1, instead of a
/// stack of usage text, because by then the arguments parsed and the problem is in what they named.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
