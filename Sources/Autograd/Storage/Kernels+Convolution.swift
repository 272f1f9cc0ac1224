import CAutogradKernels

/// The windows of a convolution or pooling over the last two axes of a tensor: each output position (oy, ox) reads
/// the input positions (oy·strideH − top + i·dilationH, ox·strideW − left + j·dilationW) for i < kernelH, j < kernelW.
/// Input planes are height × width; output planes outHeight × outWidth (padding below and right is implied by them).
struct Window2d: Sendable, Equatable {
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var top: Int, left: Int
    var dilationH: Int, dilationW: Int
    var height: Int, width: Int
    var outHeight: Int, outWidth: Int

    /// Rows of the unfolded columns per channel: kernelH · kernelW.
    var taps: Int { kernelH * kernelW }
    /// Output positions per plane: outHeight · outWidth.
    var positions: Int { outHeight * outWidth }
}

extension Kernel {
    /// im2col: x [..., N, C, H, W] → columns [..., C·kh·kw, N·OH·OW] (zeros where a window lies in the padding):
    /// row c·kh·kw + i·kw + j, column n·OH·OW + oy·OW + ox holds x[..., n, c, oy·sh − top + i·dh, ox·sw − left + j·dw].
    /// The images lie side by side along each row, so one matrix product convolves the whole batch.
    static func unfold(_ x: AnyTensor, _ g: Window2d) -> AnyTensor {
        let lead = Array(x.shape.dropLast(4)), images = x.shape[x.rank - 4], channels = x.shape[x.rank - 3]
        let y = AnyTensor(uninitialized: x.scalarType, shape: lead + [channels * g.taps, images * g.positions])
        let (outer, n, c) = (Int64(Shape.count(lead)), Int64(images), Int64(channels))
        switch x.scalarType {
        case .float32:
            launch("unfold", x.storage, y.storage, (outer, n, c, g)) { p, q in
                let (outer, n, c, g) = q
                ag_im2col_f32(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                              Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                              Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), p.f32(0), p.f32(1))
            }
        case .float64:
            launch("unfold", x.storage, y.storage, (outer, n, c, g)) { p, q in
                let (outer, n, c, g) = q
                ag_im2col_f64(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                              Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                              Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), p.f64(0), p.f64(1))
            }
        case .bool, .int32: Kernel.noKernel("unfold (im2col)", x.scalarType)
        }
        return y
    }

    /// col2im, the transpose of `unfold`: columns [..., C·kh·kw, N·OH·OW] → [..., N, C, H, W] for `images` = N,
    /// each entry added where `unfold` reads it from (entries from the padding dropped).
    static func fold(_ cols: AnyTensor, _ g: Window2d, images: Int) -> AnyTensor {
        let lead = Array(cols.shape.dropLast(2)), channels = cols.shape[cols.rank - 2] / g.taps
        let y = AnyTensor(uninitialized: cols.scalarType, shape: lead + [images, channels, g.height, g.width])
        let (outer, n, c) = (Int64(Shape.count(lead)), Int64(images), Int64(channels))
        switch cols.scalarType {
        case .float32:
            launch("fold", cols.storage, y.storage, (outer, n, c, g)) { p, q in
                let (outer, n, c, g) = q
                ag_col2im_f32(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                              Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                              Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), p.f32(0), p.f32(1))
            }
        case .float64:
            launch("fold", cols.storage, y.storage, (outer, n, c, g)) { p, q in
                let (outer, n, c, g) = q
                ag_col2im_f64(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                              Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                              Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), p.f64(0), p.f64(1))
            }
        case .bool, .int32: Kernel.noKernel("fold (col2im)", cols.scalarType)
        }
        return y
    }

    /// Max pooling of x [..., H, W] over the windows of `g` (no dilation; padding counts as −∞): the maxima
    /// [..., OH, OW] and, for each, its flat position in one plane-stack [P..., H, W] of x as an Int32 tensor of the
    /// same shape (the first maximum in row-major order on ties). One kernel writes both, so a trace replays the
    /// positions of each call's values.
    static func maxPool(_ x: AnyTensor, _ g: Window2d) -> (values: AnyTensor, positions: AnyTensor) {
        let lead = Array(x.shape.dropLast(2))
        let y = AnyTensor(uninitialized: x.scalarType, shape: lead + [g.outHeight, g.outWidth])
        let positions = AnyTensor(uninitialized: .int32, shape: y.shape)
        precondition(x.count <= Int(Int32.max), "maxPool2d: \(x.count) elements do not fit Int32 positions")
        if y.count == 0 { return (y, positions) }
        let q = (Shape.count(lead), g)
        switch x.scalarType {
        case .float32:
            launch("max pool", x.storage, y.storage, positions.storage, writes: 2, q) { p, q in
                maxPoolPositions(q.0, q.1, p.i32(2)) { out in
                    let (planes, g) = q
                    ag_max_pool_f32(Int64(planes), Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                                    Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW),
                                    Int64(g.top), Int64(g.left), p.f32(0), p.f32(1), out)
                }
            }
        case .float64:
            launch("max pool", x.storage, y.storage, positions.storage, writes: 2, q) { p, q in
                maxPoolPositions(q.0, q.1, p.i32(2)) { out in
                    let (planes, g) = q
                    ag_max_pool_f64(Int64(planes), Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                                    Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW),
                                    Int64(g.top), Int64(g.left), p.f64(0), p.f64(1), out)
                }
            }
        case .bool, .int32: Kernel.noKernel("maxPool2d", x.scalarType)
        }
        return (y, positions)
    }

    /// Runs a max-pool kernel writing Int64 positions into scratch, and stores them in `positions` as Int32.
    private static func maxPoolPositions(_ planes: Int, _ g: Window2d, _ positions: UnsafeMutablePointer<Int32>,
                                         _ kernel: (UnsafeMutablePointer<Int64>) -> Void) {
        let count = planes * g.positions
        let scratch = UnsafeMutablePointer<Int64>.allocate(capacity: count)
        defer { scratch.deallocate() }
        kernel(scratch)
        for i in 0..<count { positions[i] = Int32(truncatingIfNeeded: scratch[i]) }
    }

    /// y[o, j] = x[o, positions[j]] for x [outer, n] and Int32 positions [m] (each in 0 ..< n): the max-pool
    /// gather (`ag_gather`, any element type).
    static func gatherPositions(_ x: AnyTensor, outer: Int, n: Int, positions: AnyTensor) -> AnyTensor {
        let m = positions.count
        let y = AnyTensor(uninitialized: x.scalarType, shape: [outer, m])
        if y.count == 0 { return y }
        launch("max-pool gather", x.storage, positions.storage, y.storage, (x.scalarType.byteCount, outer, n, m)) { p, q in
            let (es, outer, n, m) = q
            withInt64Positions(p.i32(1), m) { ag_gather(Int64(es), Int64(outer), Int64(n), 1, p[0], $0, Int64(m), p[2]) }
        }
        return y
    }

    /// The transpose of `gatherPositions`: y [outer, n] is zeros with x [outer, m] added at the positions
    /// (`ag_scatter_add`).
    static func scatterAddPositions(_ x: AnyTensor, outer: Int, n: Int, positions: AnyTensor) -> AnyTensor {
        let m = positions.count
        let y = filled(x.scalarType, [outer, n], 0)
        if x.count == 0 { return y }
        switch x.scalarType {
        case .float32:
            launch("max-pool scatter-add", x.storage, positions.storage, y.storage, (outer, n, m)) { p, q in
                let (outer, n, m) = q
                withInt64Positions(p.i32(1), m) { ag_scatter_add_f32(Int64(outer), Int64(n), 1, p.f32(0), $0, Int64(m), p.f32(2)) }
            }
        case .float64:
            launch("max-pool scatter-add", x.storage, positions.storage, y.storage, (outer, n, m)) { p, q in
                let (outer, n, m) = q
                withInt64Positions(p.i32(1), m) { ag_scatter_add_f64(Int64(outer), Int64(n), 1, p.f64(0), $0, Int64(m), p.f64(2)) }
            }
        case .bool, .int32: noKernel("max-pool scatter-add", x.scalarType)
        }
        return y
    }

    /// Calls `body` with the `count` Int32 positions widened to Int64 (the index type of the C kernels).
    private static func withInt64Positions(_ positions: UnsafeMutablePointer<Int32>, _ count: Int,
                                           _ body: (UnsafePointer<Int64>) -> Void) {
        let wide = UnsafeMutablePointer<Int64>.allocate(capacity: Swift.max(count, 1))
        defer { wide.deallocate() }
        for i in 0..<count { wide[i] = Int64(positions[i]) }
        body(wide)
    }
}
