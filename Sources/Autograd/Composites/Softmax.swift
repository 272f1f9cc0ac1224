extension Tensor where Scalar: TensorScalar {
    /// softmax(x)ᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along `axis` (default: the last), computed stably as
    /// exp(x − logSumExp(x)), so inputs of any magnitude give finite results that sum to 1.
    /// Composite of `logSumExp`, `subtract` and `exp`. Jacobian along the axis: diag(s) − s sᵀ.
    public func softmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        exp(self - logSumExp(alongAxes: [axis], keepingDimensions: true, file: file, line: line), file: file, line: line)
    }

    /// log softmax(x) = x − logSumExp(x) along `axis` (default: the last): finite for inputs of any magnitude,
    /// more accurate than log(softmax(x)). Composite of `logSumExp` and `subtract`.
    public func logSoftmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        self - logSumExp(alongAxes: [axis], keepingDimensions: true, file: file, line: line)
    }
}
