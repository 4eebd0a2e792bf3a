/// im2col and its adjoint col2im, by way of a staged copy of the image.
///
/// Staging pads the image with zeros and splits each channel into stride² phase planes (space-to-depth): plane
/// (c, di, dj) holds the padded pixels (a·stride + di, b·stride + dj). Every row (c, i, j) of `col` is then one
/// block of the plane (c, i mod stride, j mod stride) shifted by (i / stride, j / stride), so it is copied in
/// contiguous runs of OW values, with no bounds tests and no strided reads. The conversion (uint8 ÷ 255, a scale,
/// a ReLU) happens once per pixel while staging, not kh·kw/stride² times. Gathering element by element from the
/// image took a third of a Nature-CNN forward.
extension Convolution2D {
    /// Rows and columns of one phase plane of the padded image.
    var phaseHeight: Int { (inputHeight + 2 * padding + stride - 1) / stride }
    var phaseWidth: Int { (inputWidth + 2 * padding + stride - 1) / stride }
    /// Floats of the staged image: C · stride² phase planes.
    var stagedSize: Int { inputChannels * stride * stride * phaseHeight * phaseWidth }
    /// Copies read up to this many values past a run's end (vector width − 1), so staging keeps them allocated.
    private static var staleTail: Int { 8 }

    /// Fills `col` (patchSize rows of outputPositions, `pitch` apart: several images' columns side by side) from one
    /// image, each value converted by `value` (a Float as it is, a uint8 pixel ÷ 255).
    @inline(__always)
    func im2col<Element>(_ image: UnsafePointer<Element>, into col: UnsafeMutablePointer<Float>, pitch: Int? = nil, value: (Element) -> Float) {
        let pitch = pitch ?? outputPositions
        withUnsafeTemporaryAllocation(of: Float.self, capacity: stagedSize + Self.staleTail) { buffer in
            let staged = buffer.baseAddress!
            stage(image, into: staged, value: value)
            (staged + stagedSize).initialize(repeating: 0, count: Self.staleTail)
            forEachRow { row, plane in copyBlock(from: staged + plane, to: col + row * pitch) }
        }
    }

    /// Adds `col` (patchSize rows of outputPositions, `pitch` apart) back into one image's gradient: the adjoint of `im2col`.
    func col2im(_ col: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, pitch: Int? = nil) {
        let pitch = pitch ?? outputPositions
        withUnsafeTemporaryAllocation(of: Float.self, capacity: stagedSize) { buffer in
            let staged = buffer.baseAddress!
            staged.initialize(repeating: 0, count: stagedSize)
            forEachRow { row, plane in addBlock(col + row * pitch, into: staged + plane) }
            unstage(staged, into: image)
        }
    }

    /// Calls `body(row, offset)` for every row (c, i, j) of `col` with the offset in the staged image of its block's
    /// first value.
    @inline(__always)
    private func forEachRow(_ body: (Int, Int) -> Void) {
        let (kernel, stride, planeSize, phaseWidth) = (kernel, stride, phaseHeight * phaseWidth, phaseWidth)
        for channel in 0..<inputChannels {
            for i in 0..<kernel {
                for j in 0..<kernel {
                    let plane = ((channel &* stride &+ i % stride) &* stride &+ j % stride) &* planeSize
                    body((channel &* kernel &+ i) &* kernel &+ j, plane &+ (i / stride) &* phaseWidth &+ j / stride)
                }
            }
        }
    }

    /// Writes the padded, phase-split, converted image into `staged` (stagedSize values).
    @inline(__always)
    private func stage<Element>(_ image: UnsafePointer<Element>, into staged: UnsafeMutablePointer<Float>, value: (Element) -> Float) {
        forEachStagedLine(staged) { target, source, first, end in
            var b = 0
            while b < first { target[b] = 0; b &+= 1 }
            guard let source else {
                while b < phaseWidth { target[b] = 0; b &+= 1 }
                return
            }
            let line = image + source
            while b < end { target[b] = value(line[b &* stride]); b &+= 1 }
            while b < phaseWidth { target[b] = 0; b &+= 1 }
        }
    }

    /// Adds the staged gradient's pixels (not its padding) into the image gradient.
    private func unstage(_ staged: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        forEachStagedLine(UnsafeMutablePointer(mutating: staged)) { target, source, first, end in
            guard let source else { return }
            let line = image + source
            var b = first
            while b < end { line[b &* stride] += target[b]; b &+= 1 }
        }
    }

    /// Calls `body(stagedLine, imageOffset, first, end)` for every line of every phase plane: staged values first..<end
    /// come from the image at imageOffset + b · stride; a nil offset means the line is all padding.
    @inline(__always)
    private func forEachStagedLine(_ staged: UnsafeMutablePointer<Float>, _ body: (UnsafeMutablePointer<Float>, Int?, Int, Int) -> Void) {
        let (height, width, stride, padding, phaseHeight, phaseWidth) = (inputHeight, inputWidth, stride, padding, phaseHeight, phaseWidth)
        var target = staged
        for channel in 0..<inputChannels {
            for di in 0..<stride {
                for dj in 0..<stride {
                    let (first, end) = validRange(offset: dj - padding, extent: width, outputs: phaseWidth)
                    for a in 0..<phaseHeight {
                        let y = a &* stride &+ di &- padding
                        let inside = y >= 0 && y < height && first < end
                        body(target, inside ? (channel &* height &+ y) &* width &+ dj &- padding : nil, first, end)
                        target += phaseWidth
                    }
                }
            }
        }
    }

    /// The indices o with 0 ≤ o·stride + offset < extent and o < outputs, as first..<end (empty when first ≥ end).
    @inline(__always)
    private func validRange(offset: Int, extent: Int, outputs: Int) -> (Int, Int) {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = extent - 1 - offset < 0 ? 0 : min(outputs, (extent - 1 - offset) / stride + 1)
        return (first, end)
    }

    /// Copies one row's block (OH runs of OW values, phaseWidth apart in the staged image) to `target` (OH·OW values).
    /// A run may be copied 8 values at a time past its end when what it overwrites is a later run of the same block.
    @inline(__always)
    private func copyBlock(from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>) {
        let (runs, length, sourcePitch) = (outputHeight, outputWidth, phaseWidth)
        let rounded = (length &+ 7) & ~7
        let blockEnd = runs &* length
        for run in 0..<runs {
            let from = source + run &* sourcePitch, to = target + run &* length
            if run &* length &+ rounded <= blockEnd {
                var x = 0
                while x < length {
                    UnsafeMutableRawPointer(to + x).storeBytes(of: UnsafeRawPointer(from + x).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    x &+= 8
                }
            } else {
                var x = 0
                while x &+ 8 <= length {
                    UnsafeMutableRawPointer(to + x).storeBytes(of: UnsafeRawPointer(from + x).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    x &+= 8
                }
                while x < length { to[x] = from[x]; x &+= 1 }
            }
        }
    }

    /// Adds one row's block of `col` (OH·OW values) into the staged gradient (OH runs of OW, phaseWidth apart).
    @inline(__always)
    private func addBlock(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
        let (runs, length, targetPitch) = (outputHeight, outputWidth, phaseWidth)
        for run in 0..<runs {
            let from = source + run &* length, to = target + run &* targetPitch
            var x = 0
            while x &+ 8 <= length {
                let sum = UnsafeRawPointer(to + x).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(from + x).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(to + x).storeBytes(of: sum, as: SIMD8<Float>.self)
                x &+= 8
            }
            while x < length { to[x] += from[x]; x &+= 1 }
        }
    }
}
