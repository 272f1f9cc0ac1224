extension Tensor where Scalar: TensorScalar {
    /// softmax(x)ᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along `axis` (default: the last), computed stably as
    /// exp(logSoftmax(x)), so inputs of any magnitude give finite results that sum to 1, each accurate to a few
    /// rounding errors. Composite of `logSoftmax` and `exp`. Jacobian along the axis: diag(s) − s sᵀ.
    /// A 0-d tensor is one class along its only implicit axis (`axis` 0 or −1, as in PyTorch): the result is 1.
    public func softmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).softmax(alongAxis: axis, file: file, line: line).reshaped(to: []) }
        return exp(logSoftmax(alongAxis: axis, file: file, line: line), file: file, line: line)
    }

    /// log softmax(x) = x − logSumExp(x) along `axis` (default: the last): finite for inputs of any magnitude,
    /// more accurate than log(softmax(x)). Computed as (x − m) − r with logSumExp = m + r split as in
    /// `logSumExp` (m the maximum), so the largest entry's result, −ln(1 + Σ e^(xⱼ − m)), keeps its accuracy when it
    /// is tiny (the cross-entropy of a confident, correct prediction). Composite of `logSumExp`'s parts and
    /// `subtract`.
    /// A 0-d tensor is one class along its only implicit axis (`axis` 0 or −1, as in PyTorch): the result is 0.
    public func logSoftmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).logSoftmax(alongAxis: axis, file: file, line: line).reshaped(to: []) }
        let a = Shape.axes([axis], rank: rank, "logSoftmax(alongAxis:)", at: CallSite(file: file, line: line))
        let (m, rest) = logSumExpParts(a, file: file, line: line)
        return (self - m) - rest
    }
}
