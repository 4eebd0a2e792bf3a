import ColonyNumerics
import Foundation

/// The pixels issue's network figures: the Nature-DQN CNN and the IMPALA ResNet on 4×84×84 uint8 frames, forward (batch 1 and 32) and
/// forward+backward (batch 256) in samples/s, against PyTorch on the same number of threads, in one run. Colony runs
/// on OPENBLAS_NUM_THREADS threads (1 unless set; its own threads, OpenBLAS on each), and PyTorch is given the same count.
struct ConvolutionBenchmarks {
    let options: BenchOptions

    func run() throws {
        let threads = Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1
        let reference = ReferenceScript(python: options.referencePython)
            .run(repositoryRoot + "/Benchmarks/reference/torch_cnn.py", arguments: [String(options.seconds), String(threads)])
        var rng = RandomSource(seed: 0)
        let nature = ConvolutionalNetwork.natureDQN(outputs: 6, initialization: .torchLinearDefault, rng: &rng)
        let impala = ResidualNetwork.impala(outputs: 6, initialization: .torchLinearDefault, rng: &rng)
        for (title, network, key) in [("Nature-DQN CNN", nature as any PixelNetwork, "torch"), ("IMPALA ResNet", impala, "torch_impala")] {
            printTable(title: "\(title) on 4×84×84 uint8 frames, \(threads) thread\(threads == 1 ? "" : "s") (samples/s)",
                       rows: rows(network, reference: reference, key: key, rng: &rng), notes: reference.notes)
        }
    }

    /// Forward at batch 1 and 32 and forward+backward at batch 256, beside PyTorch's `<key>_forward_1` etc.
    private func rows(_ network: any PixelNetwork, reference: (values: [String: Double], notes: [String]), key: String, rng: inout RandomSource) -> [BenchRow] {
        func frames(_ batch: Int) -> [UInt8] { (0..<(batch * network.inputSize)).map { _ in UInt8(rng.nextInt(below: 256)) } }
        func forward(_ batch: Int) -> Double {
            let pixels = frames(batch)
            return measureRate(seconds: options.seconds, operationsPerCall: batch, roundSize: 10) { _ = network.forward(pixels: pixels, batch: batch) }
        }
        let pixels = frames(256)
        let gradient = Tensor(shape: [256, 6], scalars: (0..<(256 * 6)).map { _ in rng.normal() })
        let train = measureRate(seconds: options.seconds, operationsPerCall: 256, roundSize: 10) {
            network.zeroGradients()
            _ = network.forward(pixels: pixels, batch: 256)
            network.backward(gradient)
        }
        return [
            BenchRow(name: "forward, batch 1", unit: "samples/s", colony: forward(1), referenceName: "PyTorch (no_grad)",
                     reference: reference.values["\(key)_forward_1"], goal: 1),
            BenchRow(name: "forward, batch 32", unit: "samples/s", colony: forward(32), referenceName: "PyTorch (no_grad)",
                     reference: reference.values["\(key)_forward_32"], goal: 1),
            BenchRow(name: "forward+backward, batch 256", unit: "samples/s", colony: train, referenceName: "PyTorch",
                     reference: reference.values["\(key)_train_256"], goal: 1),
        ]
    }
}
