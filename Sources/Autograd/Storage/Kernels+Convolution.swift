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
            ag_im2col_f32(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                          Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                          Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), x.storage.floats(),
                          y.storage.floats())
        case .float64:
            ag_im2col_f64(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                          Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                          Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), x.storage.doubles(),
                          y.storage.doubles())
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
            ag_col2im_f32(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                          Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                          Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), cols.storage.floats(),
                          y.storage.floats())
        case .float64:
            ag_col2im_f64(outer, n, c, Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                          Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW), Int64(g.top),
                          Int64(g.left), Int64(g.dilationH), Int64(g.dilationW), cols.storage.doubles(),
                          y.storage.doubles())
        case .bool, .int32: Kernel.noKernel("fold (col2im)", cols.scalarType)
        }
        return y
    }

    /// Max pooling of x [..., H, W] over the windows of `g` (no dilation; padding counts as −∞): the maxima
    /// [..., OH, OW] and, for each, its flat position in x (the first maximum in row-major order on ties).
    static func maxPool(_ x: AnyTensor, _ g: Window2d) -> (values: AnyTensor, positions: [Int]) {
        let lead = Array(x.shape.dropLast(2))
        let y = AnyTensor(uninitialized: x.scalarType, shape: lead + [g.outHeight, g.outWidth])
        let planes = Shape.count(lead)
        var positions = [Int](repeating: 0, count: planes * g.positions)
        positions.withUnsafeMutableBufferPointer { p in
            let out = UnsafeMutableRawPointer(p.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
                .assumingMemoryBound(to: Int64.self)
            switch x.scalarType {
            case .float32:
                ag_max_pool_f32(Int64(planes), Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                                Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW),
                                Int64(g.top), Int64(g.left), x.storage.floats(), y.storage.floats(), out)
            case .float64:
                ag_max_pool_f64(Int64(planes), Int64(g.height), Int64(g.width), Int64(g.kernelH), Int64(g.kernelW),
                                Int64(g.outHeight), Int64(g.outWidth), Int64(g.strideH), Int64(g.strideW),
                                Int64(g.top), Int64(g.left), x.storage.doubles(), y.storage.doubles(), out)
            case .bool, .int32: Kernel.noKernel("maxPool2d", x.scalarType)
            }
        }
        return (y, positions)
    }
}
