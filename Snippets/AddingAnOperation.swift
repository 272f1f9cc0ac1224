// The library's own checks run every check row through every route the engine takes for it.
import Autograd

// snippet.routes
// Every check of the library in Double; the rows of `sin`, one per route and mode.
let rows = try PrimitiveChecks.run(types: [.float64])
for row in rows where row.operation == "sin" {
    print(row.route, row.mode, row.passed)
}
// general reverse true, general forward true, general dot-product true,
// tensor forward true, ..., buffer forward true, ..., fused reverse true, ...,
// in-place reverse true, ..., batched reverse true, ..., compiled reverse true, ...
// snippet.end
let routes = Set(rows.filter { $0.operation == "sin" }.map(\.route))
precondition(routes == ["general", "tensor", "buffer", "fused", "in-place", "batched", "compiled"], "\(routes)")
precondition(rows.allSatisfy(\.passed))
precondition(rows.contains { $0.route == "tangent-only HVP" })
