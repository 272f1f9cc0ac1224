import Foundation
import Testing
import Autograd
@testable import AutogradTool

/// The tour's numbers against an independent computation: plain Double loops over the same data, using the closed
/// forms ℓᵢ = −(yᵢ ln σᵢ + (1 − yᵢ) ln(1 − σᵢ)), σᵢ = σ(xᵢ·w), and ∂ℓᵢ/∂w = (σᵢ − yᵢ) xᵢ.
@Suite struct TourTests {
    static let results = try! TourResults(measure: false)

    struct Independent {
        var losses: [Double] = [], vjp = [0.0, 0.0], jacobian: [Double] = [], jvp: [Double] = []
        init(_ p: MotivatingProblem) {
            let x = p.x.scalars.map(Double.init), w = p.w.scalars.map(Double.init), y = p.y.scalars.map(Double.init)
            let v = p.v.scalars.map(Double.init), u = p.u.scalars.map(Double.init)
            for i in 0..<100 {
                let z = x[2 * i] * w[0] + x[2 * i + 1] * w[1]
                let s = 1 / (1 + Foundation.exp(-z))
                losses.append(-(y[i] * Foundation.log(s) + (1 - y[i]) * Foundation.log(1 - s)))
                let d = (s - y[i])
                jacobian += [d * x[2 * i], d * x[2 * i + 1]]
                vjp[0] += v[i] * d * x[2 * i]; vjp[1] += v[i] * d * x[2 * i + 1]
                jvp.append(d * (x[2 * i] * u[0] + x[2 * i + 1] * u[1]))
            }
        }
    }

    @Test func numbersAgreeWithAnIndependentComputation() {
        let r = Self.results
        let ind = Independent(r.problem)
        func close(_ a: [Float], _ b: [Double], _ tol: Double, _ what: String) {
            for (i, (p, q)) in zip(a, b).enumerated() where Swift.abs(Double(p) - q) > tol * (1 + Swift.abs(q)) {
                Issue.record("\(what)[\(i)]: \(p) vs \(q)"); return
            }
            #expect(a.count == b.count, "\(what) length")
        }
        close(r.losses.scalars, ind.losses, 1e-5, "losses")
        close(r.vjp.scalars, ind.vjp, 1e-4, "vjp")
        close(r.jacobian.scalars, ind.jacobian, 1e-5, "jacobian")
        close(r.jvp.scalars, ind.jvp, 1e-5, "jvp")
        close(r.jvpDoubleBackward.scalars, ind.jvp, 1e-5, "jvp_double_backward")
        close(r.jvpFromJacobian.scalars, ind.jvp, 1e-5, "jvp_from_jacobian")
        #expect(r.jacobian.shape == [100, 1, 2] && r.vjp.shape == [1, 2] && r.jvp.shape == [100])
    }

    @Test func dataComesFromTheFixedSeed() {
        let p = Self.results.problem
        #expect(p.x.shape == [100, 2] && p.w.shape == [1, 2] && p.y.shape == [100] && p.v.shape == [100] && p.u.shape == [1, 2])
        #expect(p.y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(MotivatingProblem().x.scalars == p.x.scalars)
    }

    @Test func mistakenCallGetsTheTeachingError() {
        let text = Self.results.mistakenCallError
        #expect(text.contains("cotangent for output 0 has shape [1, 2] but the output has shape [100]"))
        #expect(text.contains("use jvp(of:at:tangent:)"))
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let json = Self.results.json
        for key in ["x", "w", "y", "v", "u", "losses", "vjp", "jacobian", "mistaken_call_error", "jvp", "jvp_double_backward"] {
            #expect(json[key] != nil, "missing key \(key)")
        }
        let text = JSON.string(json)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let jac = parsed?["jacobian"] as? [[[Double]]]
        #expect(jac?.count == 100 && jac?[0].count == 1 && jac?[0][0].count == 2)
    }
}
