// The route dimension of the derivative checks: each check runs through every route the engine takes for it.
//
// The engine computes derivatives by each primitive's rules (the general route) or by faster routes beside them
// (see `Route`). A route restriction forces the general rules (every fast path off) or allows one fast route at a
// time (with the fused kernels, which the other routes build on); the routes the engine actually took are logged,
// and a row is reported only for a route that was taken. Every row compares with the same finite differences, so a
// fast path that disagrees with its rule fails its own row while the general row passes.

extension DerivativeChecker {
    /// How many tangents or cotangents the batched route pushes through one pass.
    static var batchSize: Int { 3 }

    /// The rows of every route in `routes` that the engine takes for this function, and the routes taken, by
    /// primitive type. `hessianOf`, for a function that is the gradient of a scalar function f, is f: then the
    /// tangent-only HVP route computes H·u with `hvp` and is compared with the forward row's finite difference.
    /// `trace`, if given, collects the primitives run in the general and fused routes.
    func runRoutes(inputs: [Tensor<Scalar>], modes: [CheckMode], routes: [Route],
                   hessianOf: ((AnyTensor) throws -> AnyTensor)?, trace: PrimitiveTrace?) throws
        -> (rows: [DerivativeCheckResult], routes: [String: RouteSet]) {
        let ref = try makeReference(inputs: inputs, batch: routes.contains(.batched) ? Self.batchSize : 1)
        let wantsReverse = modes.contains { $0 != .forward }, wantsForward = modes.contains { $0 != .reverse }
        var results: [DerivativeCheckResult] = []
        var fired: [String: RouteSet] = [:]

        /// Runs `body` with only `allowed` fast routes; returns its result and whether `route` was taken.
        func restricted<R>(_ allowed: RouteSet, noting route: Route, _ body: () throws -> R) throws -> (R, Bool) {
            let restriction = RouteRestriction(allowing: allowed)
            let value = try Routes.restricted(to: restriction, body)
            fired.merge(restriction.fired) { $0.union($1) }
            return (value, restriction.firedRoutes.contains(route))
        }

        for route in routes {
            switch route {
            case .general:
                let run = { () throws -> ([[Double]]?, [Double]?) in
                    let rev = wantsReverse ? try self.reverseAD(ref, k: 0) : nil
                    return (rev, wantsForward ? try self.forwardAD(ref, k: 0) : nil)
                }
                let ((rev, fwd), _) = try restricted([], noting: .general) {
                    guard let trace else { return try run() }
                    return try ADScope.current.with(trace: .some(trace)).run(run)
                }
                results += rows(ref, k: 0, modes: modes, reverse: rev, forward: fwd, route: .general)
            case .tensorJVP, .bufferJVP, .twoInputJVP, .fused, .inPlace:
                let allowed = route.bit.union(Route.fused.bit)
                // The fused route alone leaves the plain forward paths off, as a trace does: it may watch.
                func traced<R>(_ body: () throws -> R) throws -> R {
                    guard let trace, route == .fused else { return try body() }
                    return try ADScope.current.with(trace: .some(trace)).run(body)
                }
                let (rev, revFired) = try restricted(allowed, noting: route) {
                    try traced { wantsReverse ? try reverseAD(ref, k: 0, owned: route == .inPlace) : nil }
                }
                let (fwd, fwdFired) = try restricted(allowed, noting: route) {
                    try traced { wantsForward ? try forwardAD(ref, k: 0) : nil }
                }
                guard revFired || fwdFired else { continue }
                results += rows(ref, k: 0, modes: modes.filter { $0 != .reverse || revFired },
                                reverse: rev, forward: fwd, route: route)
                    .filter { $0.mode != CheckMode.forward.rawValue || fwdFired }
            case .batched:
                // Each slice against the finite differences and against the same direction pushed alone.
                let (ad, _) = try restricted(.all, noting: .batched) { try batchedAD(ref) }
                var worst: [String: DerivativeCheckResult] = [:]
                for k in 0..<ref.v64.count {
                    let alone = (reverse: wantsReverse ? try reverseAD(ref, k: k) : [],
                                 forward: wantsForward ? try forwardAD(ref, k: k) : [])
                    for var row in rows(ref, k: k, modes: modes, reverse: ad.reverse[k], forward: ad.forward[k],
                                        route: .batched) {
                        let pairs: [(Double, Double)] = switch row.mode {
                        case CheckMode.reverse.rawValue:
                            zip(ad.reverse[k], alone.reverse).flatMap { zip($0, $1).map { ($0, $1) } }
                        case CheckMode.forward.rawValue: zip(ad.forward[k], alone.forward).map { ($0, $1) }
                        default: []
                        }
                        let apart = largestDifference(pairs)
                        row.maxError = Swift.max(row.maxError, apart.isNaN ? .infinity : apart)
                        if (worst[row.mode]?.maxError ?? -1) < row.maxError { worst[row.mode] = row }
                    }
                }
                results += modes.compactMap { worst[$0.rawValue] }
            case .compiled:
                do {
                    results += try compiledRows(ref, modes: modes, wantsReverse: wantsReverse, wantsForward: wantsForward)
                } catch let error as AutogradError {
                    // An operation that compiled functions cannot trace (the article "Compiled functions" lists
                    // them): the function has no compiled form, so there is no compiled row.
                    guard case .untraceable = error else { throw error }
                }
            case .tangentHVP:
                guard let hessianOf, wantsForward, ref.points.count == 1 else { continue }
                let vectors = ref.u64[0].map { Tensor<Scalar>(converting: $0).base }
                let (hu, taken) = try restricted(Route.tangentHVP.bit.union(Route.fused.bit), noting: .tangentHVP) {
                    try Functional.hessianVectorProducts(at: ref.points.map(\.base), vectors: vectors,
                                                         call: "hvp(of:at:vectors:)") { try hessianOf($0[0]) }
                }
                guard taken else { continue }
                let values = Tensor<Double>(converting: Tensor<Scalar>(unchecked: hu[0])).scalars
                results += rows(ref, k: 0, modes: [.forward], reverse: nil, forward: values, route: .tangentHVP)
            }
        }
        return (results, fired)
    }

    /// max |a − b| / (1 + |b|) over the pairs.
    private func largestDifference(_ pairs: [(Double, Double)]) -> Double {
        pairs.reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1) / (1 + Swift.abs($1.1))) }
    }
}
