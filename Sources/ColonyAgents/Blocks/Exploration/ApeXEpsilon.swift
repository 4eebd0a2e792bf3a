/// Ape-X per-actor exploration (Horgan et al., 2018): ε_i = ε^(1 + α·i/(N−1)) for actor i of N.
public func apeXEpsilon(actor: Int, actors: Int, base: Double = 0.4, alpha: Double = 7) -> Double {
    guard actors > 1 else { return base }
    return Foundation.pow(base, 1 + alpha * Double(actor) / Double(actors - 1))
}

import Foundation
