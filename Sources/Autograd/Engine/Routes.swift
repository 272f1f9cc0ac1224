import Synchronization

/// A way the engine can compute a derivative: the general rule, or one of the faster routes beside it.
///
/// Every primitive states its derivative once (its `vjp` and `jvp`, or a linear rule and its transpose). The faster
/// routes compute the same numbers with less work, and each must equal the general rule; the derivative checker
/// (`autograd check`) runs every check through every route the engine takes for it, so a wrong fast path fails a
/// row of its own. A route is forced off with a `RouteRestriction`.
enum Route: String, CaseIterable, Sendable {
    /// Every fast path off: the rules as stated (`vjp`, `jvp`, f′ as an expression).
    case general
    /// Forward mode's plain case on tensors: `plainJVP(_:_:_:batchShape:)` of a one-input primitive (and the plain
    /// JVP of primitives with three or more inputs), on constants, without a rule context or recording.
    case tensorJVP = "tensor"
    /// Forward mode's leanest case: `plainJVP(_:tangentBuffer:_:)` on bare buffers (unbatched, one input).
    case bufferJVP = "buffer"
    /// The plain forward case of a two-input primitive: `plainJVP(_:_:_:_:_:batchShape:)`.
    case twoInputJVP = "two-input"
    /// Fused derivative kernels: the derivative-product primitive for elementwise functions and binary
    /// cross-entropy's fused partials, instead of f′ written as an expression of recorded operations.
    case fused
    /// A one-input VJP that writes its result into the cotangent's own buffer (`vjpOfOneInput` on an owned,
    /// unshared cotangent).
    case inPlace = "in-place"
    /// Tangents or cotangents with a leading batch dimension (several directions in one pass): each slice must
    /// equal the unbatched result. Chosen by the caller (`batched: true`), not by the engine.
    case batched
    /// The Hessian-vector product's tangent-only reverse step: `vjpTangent`, which forms a cotangent's tangent
    /// without its value.
    case tangentHVP = "tangent-only HVP"
    /// The check's reverse and forward calls inside ``compiled(maximumTraces:_:)``: traced at other inputs, then
    /// replayed at the check's point, where the result must equal the eager one bit for bit. Chosen by the
    /// checker, not by the engine.
    case compiled

    /// The route's bit in a `RouteSet`.
    var bit: RouteSet { RouteSet(rawValue: 1 << UInt16(Route.allCases.firstIndex(of: self)!)) }
}

/// A set of routes.
struct RouteSet: OptionSet, Sendable, Hashable {
    let rawValue: UInt16
    /// Every route.
    static let all = RouteSet(rawValue: .max)
    /// The routes in `routes`.
    init(_ routes: [Route]) { self = routes.reduce(RouteSet()) { $0.union($1.bit) } }
    init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Whether `route` is in the set.
    func contains(_ route: Route) -> Bool { contains(route.bit) }
    /// The routes in the set, in declaration order.
    var routes: [Route] { Route.allCases.filter { contains($0) } }
}

/// Which fast routes the engine may take in a task, and a log of the routes it took, by primitive.
///
/// Set with `Routes.restricted(to:_:)` (the derivative checker does). While no restriction is active anywhere in the
/// process, each decision point costs one relaxed atomic load (as `AnomalyDetection.isOnAnywhere`).
final class RouteRestriction: Sendable {
    /// The routes allowed; `.general` needs no permission.
    let allowed: RouteSet
    private let log = Mutex<[String: RouteSet]>([:])

    /// A restriction allowing `allowed` (the empty set: every fast path off).
    init(allowing allowed: RouteSet) { self.allowed = allowed }

    /// Notes that `route` was taken for `primitive`.
    func note(_ route: Route, _ primitive: any Primitive) {
        let name = String(describing: type(of: primitive))
        _ = log.withLock { $0[name, default: []].insert(route.bit) }
    }

    /// The routes taken so far, by primitive type name.
    var fired: [String: RouteSet] { log.withLock { $0 } }

    /// Every route taken so far, for any primitive.
    var firedRoutes: RouteSet { log.withLock { $0.values.reduce(RouteSet()) { $0.union($1) } } }

    /// Forgets the routes taken so far.
    func clearLog() { log.withLock { $0 = [:] } }
}

/// The engine's access to the active route restriction.
enum Routes {
    private static let active = Atomic<Int>(0)
    @TaskLocal private static var restriction: RouteRestriction?

    /// Whether some task has a route restriction active (then the task-local one says whether this task does).
    @inline(__always) static var isRestrictedAnywhere: Bool { active.load(ordering: .relaxed) != 0 }

    /// Whether the engine may take `route` for `primitive` here, noting it as taken if so. Call it where the route
    /// is chosen, last among the conditions, so that a route is noted only when it is taken.
    @inline(__always) static func take(_ route: Route, _ primitive: some Primitive) -> Bool {
        !isRestrictedAnywhere || restrictedTake(route, primitive)
    }

    /// Runs `body`, a fast route that may decline (it returns whether it did the work), if `route` is allowed here,
    /// and notes the route as taken if it did; returns false if the route is forbidden or declined. For a route
    /// whose conditions are known only by trying it (an in-place write needs an unshared buffer).
    @inline(__always) static func attempt(_ route: Route, _ primitive: some Primitive, _ body: () -> Bool) -> Bool {
        guard isRestrictedAnywhere else { return body() }
        return restrictedAttempt(route, primitive, body)
    }

    @inline(never)
    private static func restrictedAttempt(_ route: Route, _ primitive: some Primitive, _ body: () -> Bool) -> Bool {
        guard let restriction else { return body() }
        guard restriction.allowed.contains(route), body() else { return false }
        restriction.note(route, primitive)
        return true
    }

    @inline(never)
    private static func restrictedTake(_ route: Route, _ primitive: some Primitive) -> Bool {
        guard let restriction else { return true }
        guard restriction.allowed.contains(route) else { return false }
        restriction.note(route, primitive)
        return true
    }

    /// Runs `body` with `restriction` active in this task (and the tasks it creates).
    static func restricted<R>(to restriction: RouteRestriction, _ body: () throws -> R) rethrows -> R {
        active.add(1, ordering: .relaxed)
        defer { active.subtract(1, ordering: .relaxed) }
        return try $restriction.withValue(restriction) { try body() }
    }
}
