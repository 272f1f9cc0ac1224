// softmax and logSoftmax normalize over a set of axes, so they take `alongAxes:` like the reductions (sum, mean,
// max, logSumExp). The convention: `alongAxes:` where an operation works over a set of axes, `alongAxis:` where it
// moves data along exactly one (gathering, concatenating, stacking). With no axes given, the last axis.
// Both spellings exist, `x.softmax(alongAxes: 1)` and `softmax(x, alongAxes: 1)`, and a plain free form that can be
// passed as a function value.

extension Tensor where Scalar: TensorScalar {
    /// softmax(x)ᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}, the sum running over `axes` (none given: the last axis), computed
    /// stably as exp(logSoftmax(x)), so inputs of any magnitude give finite results that sum to 1, each accurate
    /// to a few rounding errors. Composite of `logSoftmax` and `exp`. Jacobian along one axis: diag(s) − s sᵀ.
    /// A 0-d tensor is one class along its only implicit axis (axis 0 or −1, as in PyTorch): the result is 1.
    public func softmax(alongAxes axes: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        normalized(axes, "softmax(alongAxes:)", file, line) { x, a in
            Autograd.exp(x.logSoftmax(a, file, line), file: file, line: line)
        }
    }

    /// softmax over the given axes (variadic form; `x.softmax()` normalizes over the last axis).
    public func softmax(alongAxes axes: Int..., file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        softmax(alongAxes: axes, file: file, line: line)
    }

    /// log softmax(x) = x − logSumExp(x), the sum running over `axes` (none given: the last axis): finite for
    /// inputs of any magnitude, more accurate than log(softmax(x)). Computed as (x − m) − r with logSumExp = m + r
    /// split as in `logSumExp` (m the maximum), so the largest entry's result, −ln(1 + Σ e^(xⱼ − m)), keeps its
    /// accuracy when it is tiny (the cross-entropy of a confident, correct prediction). Composite of `logSumExp`'s
    /// parts and `subtract`.
    /// A 0-d tensor is one class along its only implicit axis (axis 0 or −1, as in PyTorch): the result is 0.
    public func logSoftmax(alongAxes axes: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        normalized(axes, "logSoftmax(alongAxes:)", file, line) { x, a in x.logSoftmax(a, file, line) }
    }

    /// log softmax over the given axes (variadic form; `x.logSoftmax()` normalizes over the last axis).
    public func logSoftmax(alongAxes axes: Int..., file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        logSoftmax(alongAxes: axes, file: file, line: line)
    }

    /// softmax along one axis.
    @available(*, deprecated, renamed: "softmax(alongAxes:file:line:)")
    public func softmax(alongAxis axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        softmax(alongAxes: [axis], file: file, line: line)
    }

    /// log softmax along one axis.
    @available(*, deprecated, renamed: "logSoftmax(alongAxes:file:line:)")
    public func logSoftmax(alongAxis axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        logSoftmax(alongAxes: [axis], file: file, line: line)
    }

    /// Checks `axes` in the name of the call the user made (`operation`) and applies `body` to the axes, a 0-d
    /// tensor taken as one class along an implicit axis.
    private func normalized(_ axes: [Int], _ operation: String, _ file: StaticString, _ line: UInt,
                            _ body: (Tensor, [Int]) -> Tensor) -> Tensor {
        let loc = CallSite(file: file, line: line)
        if rank == 0 {
            _ = Shape.axes(axes.isEmpty ? [-1] : axes, rank: 1, operation, at: loc)
            return body(reshaped(to: [1]), [0]).reshaped(to: [])
        }
        return body(self, Shape.axes(axes.isEmpty ? [-1] : axes, rank: rank, operation, at: loc))
    }

    /// (x − m) − r over the checked axes `a`.
    private func logSoftmax(_ a: [Int], _ file: StaticString, _ line: UInt) -> Tensor {
        let (m, rest) = logSumExpParts(a, file: file, line: line)
        return (self - m) - rest
    }
}

/// softmax(x) over `axes` (none given: the last axis): the free-function spelling of
/// ``Tensor/softmax(alongAxes:file:line:)-([Int],_,_)``.
public func softmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>, alongAxes axes: Int..., file: StaticString = #fileID,
                                          line: UInt = #line) -> Tensor<Scalar> {
    x.softmax(alongAxes: axes, file: file, line: line)
}

/// log softmax(x) over `axes` (none given: the last axis): the free-function spelling of
/// ``Tensor/logSoftmax(alongAxes:file:line:)-([Int],_,_)``.
public func logSoftmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>, alongAxes axes: Int..., file: StaticString = #fileID,
                                             line: UInt = #line) -> Tensor<Scalar> {
    x.logSoftmax(alongAxes: axes, file: file, line: line)
}

/// softmax over the last axis as a value of type `(Tensor) -> Tensor`, for passing to a transform
/// (`jacobian(of: softmax, at: x)`). Named calls use ``softmax(_:alongAxes:file:line:)``.
@_disfavoredOverload
public func softmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.softmax(alongAxes: [-1]) }

/// log softmax over the last axis as a value of type `(Tensor) -> Tensor`, for passing to a transform.
/// Named calls use ``logSoftmax(_:alongAxes:file:line:)``.
@_disfavoredOverload
public func logSoftmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.logSoftmax(alongAxes: [-1]) }
