extension Tensor where Scalar: TensorScalar {
    /// softmax(x)ᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along `axis` (default: the last), computed stably as
    /// exp(x − logSumExp(x)), so inputs of any magnitude give finite results that sum to 1.
    /// Composite of `logSumExp`, `subtract` and `exp`. Jacobian along the axis: diag(s) − s sᵀ.
    /// A 0-d tensor is one class along its only implicit axis (`axis` 0 or −1, as in PyTorch): the result is 1.
    public func softmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).softmax(alongAxis: axis, file: file, line: line).reshaped(to: []) }
        return exp(self - logSumExp(alongAxes: [axis], keepingDimensions: true, file: file, line: line),
                   file: file, line: line)
    }

    /// log softmax(x) = x − logSumExp(x) along `axis` (default: the last): finite for inputs of any magnitude,
    /// more accurate than log(softmax(x)). Composite of `logSumExp` and `subtract`.
    /// A 0-d tensor is one class along its only implicit axis (`axis` 0 or −1, as in PyTorch): the result is 0.
    public func logSoftmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).logSoftmax(alongAxis: axis, file: file, line: line).reshaped(to: []) }
        return self - logSumExp(alongAxes: [axis], keepingDimensions: true, file: file, line: line)
    }
}
