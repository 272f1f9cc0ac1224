import ArgumentParser
import Autograd
import AutogradNN
import Foundation

/// Monthly mean CO₂ at Mauna Loa, March 1958 to December 2001 (521 months), shipped with the tool in
/// `Resources/mauna_loa_co2_monthly.csv`: the means of the weekly record of the Scripps Institution of Oceanography
/// (C. D. Keeling and T. P. Whorf), public domain. `Resources/DATA.md` says where the copy comes from and how the
/// monthly means were made (weeks without a value are left out; months without any are absent).
public struct MaunaLoaCO2: Sendable {
    /// Each month's middle as a decimal year: year + (month − 0.5)/12.
    public let years: [Double]
    /// The month's mean mole fraction of CO₂ in dry air, ppm.
    public let ppm: [Double]

    /// Where the CSV file is: in this module's resource bundle (`Bundle.module`).
    public static var fileURL: URL? {
        Bundle.module.url(forResource: "mauna_loa_co2_monthly", withExtension: "csv", subdirectory: "Resources")
    }

    /// Reads the shipped file.
    /// - Throws: ``ExampleDataError`` if the file is missing or a line is malformed.
    public static func load() throws -> MaunaLoaCO2 {
        guard let url = fileURL, let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ExampleDataError(description: "Resources/mauna_loa_co2_monthly.csv is missing from the "
                + "AutogradTool resource bundle")
        }
        return try MaunaLoaCO2(csv: text)
    }

    /// Parses `year,month,co2_ppm,weeks` lines after a header line.
    /// - Throws: ``ExampleDataError`` naming the first malformed line.
    public init(csv: String) throws {
        var years: [Double] = [], ppm: [Double] = []
        for (number, line) in csv.split(separator: "\n").enumerated().dropFirst() {
            let fields = line.split(separator: ",")
            guard fields.count == 4, let year = Int(fields[0]), let month = Int(fields[1]), (1...12).contains(month),
                  let value = Double(fields[2]) else {
                throw ExampleDataError(description: "mauna_loa_co2_monthly.csv, line \(number + 1): expected "
                    + "year,month,co2_ppm,weeks, found \"\(line)\"")
            }
            years.append(Double(year) + (Double(month) - 0.5) / 12)
            ppm.append(value)
        }
        self.years = years
        self.ppm = ppm
    }
}

/// A data file that could not be read.
public struct ExampleDataError: Error, CustomStringConvertible {
    /// What went wrong, naming the file and line.
    public let description: String
}

/// Gaussian-process regression of the Mauna Loa CO₂ record (`autograd example gp`): the covariance function's six
/// hyperparameters fitted by maximizing the log marginal likelihood with the library's gradients (Adam), then one
/// Newton step with the library's Hessian, both through `cholesky`, `triangularSolve` and the Cholesky factor's
/// diagonal; the derivatives checked against central finite differences; the same fit made again with
/// finite-difference gradients; the posterior mean and variance on a grid.
///
/// Model, in standardized units (ppm minus the mean, over the standard deviation; time t in years):
///
///     k(t, t') = σ₁² exp(−d²/2ℓ₁²)                               long-term trend
///              + σ₂² exp(−2 sin²(π d)/ℓₚ² − d²/2ℓ₂²)             seasonal cycle (period 1 year) that drifts
///              + σₙ² [t = t']                                      noise, d = t − t'
///     log p(y | θ) = −½ yᵀK⁻¹y − ½ log det K − (n/2) log 2π
///                  = −½ ‖L⁻¹y‖² − Σᵢ log Lᵢᵢ − (n/2) log 2π,      K = L·Lᵀ
///
/// with θ = (log σ₁, log ℓ₁, log σ₂, log ℓₚ, log ℓ₂, log σₙ). Cost per evaluation: n³/3 flops for L and n² for the
/// solve; the gradient about 4n³ more; the Hessian six tangents through the gradient.
public struct GaussianProcessExample {
    /// The hyperparameters' names, in the order of θ.
    public static let parameterNames = ["long_term_amplitude", "long_term_length_scale", "seasonal_amplitude",
                                        "seasonal_smoothness", "seasonal_decay", "noise"]
    /// Where the fit starts, θ₀ (log of: 1, 20 years, 0.1, 1, 50 years, 0.05, in standardized units).
    public static let start: [Double] = [0, Foundation.log(20), Foundation.log(0.1), 0, Foundation.log(50),
                                         Foundation.log(0.05)]

    /// Months used for the fit (evenly spaced through the record).
    public let points: Int
    /// Adam steps of each fit.
    public let steps: Int
    /// Adam's learning rate.
    public static let learningRate = 0.05

    /// The whole record.
    public let data: MaunaLoaCO2
    /// Indices into `data` of the months fitted.
    public let training: [Int]
    /// Mean and standard deviation of the fitted months' ppm (standardization).
    public let mean: Double, scale: Double

    /// log p(y | θ₀).
    public let startLogLikelihood: Double
    /// θ after the gradient fit, and log p there.
    public let fitted: [Double], fittedLogLikelihood: Double
    /// θ after the Newton step, and log p there.
    public let optimum: [Double], finalLogLikelihood: Double
    /// ‖∇ log p‖₂ after the gradient fit and after the Newton step.
    public let fittedGradientNorm: Double, finalGradientNorm: Double
    /// Whether the Hessian at the fitted θ is negative definite (a maximum nearby), and the Newton step length used
    /// (1 unless halving it was needed to increase log p).
    public let hessianNegativeDefinite: Bool, newtonStepScale: Double
    /// ‖g − g_FD‖/‖g_FD‖ for the gradient and ‖H − H_FD‖_F/‖H_FD‖_F for the Hessian at the fitted θ, against
    /// fourth-order central differences with ε = 10⁻³ (of log p for g, of the library's gradient for H).
    public let gradientDifference: Double, hessianDifference: Double
    /// The fit with central-difference gradients (2·6 evaluations of log p per step) from the same start.
    public let differenceFitted: [Double], differenceFittedLogLikelihood: Double
    /// Seconds of the gradient fit and of the finite-difference fit.
    public let fitSeconds: Double, differenceFitSeconds: Double
    /// Root-mean-square error, in ppm, of the posterior mean on the months not fitted (nil when all are).
    public let heldOutError: Double?

    /// Runs the whole example on `points` months (at most the 521 of the record) with `steps` Adam steps per fit.
    public init(points requested: Int = 150, steps: Int = 150) throws {
        let record = try MaunaLoaCO2.load()
        let total = record.years.count
        let count = Swift.max(8, Swift.min(requested, total))
        let chosen = (0..<count).map { Int((Double($0) * Double(total - 1) / Double(count - 1)).rounded()) }
        let values = chosen.map { record.ppm[$0] }
        let center = values.reduce(0, +) / Double(count)
        let spread = (values.map { ($0 - center) * ($0 - center) }.reduce(0, +) / Double(count)).squareRoot()
        let model = GaussianProcessModel(times: chosen.map { record.years[$0] },
                                         targets: values.map { ($0 - center) / spread })
        (data, points, self.steps, training, mean, scale) = (record, count, steps, chosen, center, spread)
        let lml = model.logMarginalLikelihood

        let theta0 = Tensor<Double>(GaussianProcessExample.start)
        startLogLikelihood = lml(theta0).scalar

        // The fit: Adam ascending log p with the library's gradient.
        var clock = Timing.now()
        let fit = try GaussianProcessExample.adam(from: theta0, steps: steps) { try gradient(at: $0, of: lml) }
        fitSeconds = Timing.now() - clock
        fitted = fit.scalars
        fittedLogLikelihood = lml(fit).scalar
        let g = try gradient(at: fit, of: lml)
        fittedGradientNorm = norm(g.scalars)

        // The derivatives against central differences at the fitted θ.
        let fd = GaussianProcessExample.centralDifferences
        let gFD = try fd(fit.scalars, 1e-3) { [lml(Tensor($0)).scalar] }.map { $0[0] }
        gradientDifference = norm(zip(g.scalars, gFD).map { $0 - $1 }) / norm(gFD)
        let h = try hessian(of: lml, at: fit)
        // Row i: the difference of the gradient along eᵢ (H is symmetric).
        let hFD = try fd(fit.scalars, 1e-3) { try gradient(at: Tensor($0), of: lml).scalars }.flatMap { $0 }
        hessianDifference = norm(zip(h.scalars, hFD).map { $0 - $1 }) / norm(hFD)
        hessianNegativeDefinite = isPositiveDefinite(h.scalars.map { -$0 }, 6)

        // One Newton step θ ← θ − H⁻¹∇ log p (halved while it does not increase log p).
        let direction = -solve(h, g)
        var stepScale = 1.0, next = fit + direction
        var nextValue = lml(next).scalar
        while !(nextValue >= fittedLogLikelihood) && stepScale > 1e-3 {
            stepScale /= 2
            next = fit + direction * stepScale
            nextValue = lml(next).scalar
        }
        if !(nextValue >= fittedLogLikelihood) { (next, nextValue, stepScale) = (fit, fittedLogLikelihood, 0) }
        newtonStepScale = stepScale
        optimum = next.scalars
        finalLogLikelihood = nextValue
        finalGradientNorm = norm(try gradient(at: next, of: lml).scalars)

        // The same fit with central-difference gradients.
        clock = Timing.now()
        let fdFit = try GaussianProcessExample.adam(from: theta0, steps: steps) { theta in
            // Second-order central differences, (f(θ + εeᵢ) − f(θ − εeᵢ))/2ε: enough to steer Adam.
            Tensor(theta.scalars.indices.map { i in
                var plus = theta.scalars, minus = theta.scalars
                plus[i] += 1e-4
                minus[i] -= 1e-4
                return (lml(Tensor(plus)).scalar - lml(Tensor(minus)).scalar) / 2e-4
            })
        }
        differenceFitSeconds = Timing.now() - clock
        differenceFitted = fdFit.scalars
        differenceFittedLogLikelihood = lml(fdFit).scalar

        let fittedMonths = Set(chosen)
        let heldOut = (0..<total).filter { !fittedMonths.contains($0) }
        if heldOut.isEmpty {
            heldOutError = nil
        } else {
            let prediction = model.posterior(next, at: heldOut.map { record.years[$0] })
            let squares = zip(heldOut, prediction.mean.scalars).map { i, m in
                (m * spread + center - record.ppm[i]) * (m * spread + center - record.ppm[i])
            }
            heldOutError = (squares.reduce(0, +) / Double(heldOut.count)).squareRoot()
        }
        posteriorModel = model
    }

    private let posteriorModel: GaussianProcessModel

    /// The hyperparameters after the Newton step in the data's units: amplitudes and noise in ppm, length scales
    /// in years, the seasonal smoothness ℓₚ without unit.
    public var hyperparameters: [String: Double] {
        var result: [String: Double] = [:]
        for (i, name) in GaussianProcessExample.parameterNames.enumerated() {
            let value = Foundation.exp(optimum[i])
            result[name] = [0, 2, 5].contains(i) ? value * scale : value
        }
        return result
    }

    /// The larger of the two relative differences against central finite differences (gradient, Hessian).
    public var finiteDifferenceAgreement: Double { Swift.max(gradientDifference, hessianDifference) }

    /// The posterior mean and standard deviation of the latent CO₂ curve, in ppm, at the given decimal years.
    public func posterior(at years: [Double]) -> (mean: [Double], standardDeviation: [Double]) {
        let p = posteriorModel.posterior(Tensor(optimum), at: years)
        return (p.mean.scalars.map { $0 * scale + mean }, p.variance.scalars.map { Swift.max($0, 0).squareRoot() * scale })
    }

    /// The result as a JSON object.
    public var json: [String: Any] {
        func named(_ theta: [Double]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: zip(GaussianProcessExample.parameterNames, theta).map { ($0, $1) })
        }
        var object: [String: Any] = [
            "log_marginal_likelihood": finalLogLikelihood,
            "hyperparameters": hyperparameters,
            "finite_difference_agreement": finiteDifferenceAgreement,
            "gradient_fd_relative_difference": gradientDifference,
            "hessian_fd_relative_difference": hessianDifference,
            "log_marginal_likelihood_start": startLogLikelihood,
            "log_marginal_likelihood_fit": fittedLogLikelihood,
            "gradient_norm_fit": fittedGradientNorm,
            "gradient_norm_newton": finalGradientNorm,
            "hessian_negative_definite": hessianNegativeDefinite,
            "newton_step_scale": newtonStepScale,
            "log_hyperparameters": named(optimum),
            "points": points, "months_in_record": data.years.count,
            "optimizer": "Adam, learning rate \(GaussianProcessExample.learningRate), \(steps) steps, then one Newton step",
            "fit_seconds": fitSeconds,
            "finite_difference_fit": [
                "log_marginal_likelihood": differenceFittedLogLikelihood,
                "log_hyperparameters": named(differenceFitted),
                "max_log_hyperparameter_difference": zip(differenceFitted, fitted).map { Swift.abs($0 - $1) }.max() ?? 0,
                "seconds": differenceFitSeconds,
            ] as [String: Any],
        ]
        if let heldOutError { object["held_out_rmse_ppm"] = heldOutError }
        return object
    }

    /// Adam ascending a function from θ₀ with the given gradient (β₁ = 0.9, β₂ = 0.999).
    static func adam(from theta0: Tensor<Double>, steps: Int,
                     gradient: (Tensor<Double>) throws -> Tensor<Double>) throws -> Tensor<Double> {
        var parameters = [theta0]
        var optimizer = Adam<Double>(learningRate: learningRate)
        for _ in 0..<steps {
            let g = try gradient(parameters[0])
            optimizer.update(&parameters, along: [-g])   // Adam descends: ascend log p
        }
        return parameters[0]
    }

    /// The fourth-order central difference (−f(x + 2εeᵢ) + 8f(x + εeᵢ) − 8f(x − εeᵢ) + f(x − 2εeᵢ))/12ε for each
    /// i, of a scalar function (`f` returns [f]) or of each component of a vector function: its truncation error is
    /// O(ε⁴), so ε can be large enough (10⁻³) that the rounding of f, amplified by K's condition number, stays
    /// small against it.
    static func centralDifferences(_ x: [Double], _ epsilon: Double, _ f: ([Double]) throws -> [Double]) rethrows
        -> [[Double]] {
        try x.indices.map { i in
            func at(_ t: Double) throws -> [Double] {
                var shifted = x
                shifted[i] += t * epsilon
                return try f(shifted)
            }
            let (p2, p1, m1, m2) = (try at(2), try at(1), try at(-1), try at(-2))
            return p2.indices.map { (-p2[$0] + 8 * p1[$0] - 8 * m1[$0] + m2[$0]) / (12 * epsilon) }
        }
    }
}

private func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Whether a small symmetric row-major n×n matrix is positive definite (a Cholesky factorization in Double that
/// returns instead of stopping).
private func isPositiveDefinite(_ a: [Double], _ n: Int) -> Bool {
    var l = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
        var d = a[j * n + j]
        for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
        if !(d > 0) { return false }
        l[j * n + j] = d.squareRoot()
        for i in (j + 1)..<n {
            var v = a[i * n + j]
            for k in 0..<j { v -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = v / l[j * n + j]
        }
    }
    return true
}

/// The Gaussian process of ``GaussianProcessExample``: fixed inputs and targets; θ is the only variable.
struct GaussianProcessModel {
    /// Times in years relative to 1980, and standardized targets y [n].
    let times: [Double]
    let y: Tensor<Double>
    /// The constant matrices of the kernel between the inputs: d² and 2 sin²(π d), [n, n].
    let squaredDistances: Tensor<Double>, periodicDistances: Tensor<Double>
    /// A small multiple of I added to K (in standardized units), keeping it positive definite in rounding.
    static let jitter = 1e-6

    init(times: [Double], targets: [Double]) {
        self.times = times.map { $0 - 1980 }
        y = Tensor(targets)
        (squaredDistances, periodicDistances) = GaussianProcessModel.distances(self.times, self.times)
    }

    /// d² and 2 sin²(π d) for d = a[i] − b[j], [a.count, b.count].
    static func distances(_ a: [Double], _ b: [Double]) -> (Tensor<Double>, Tensor<Double>) {
        var squared: [Double] = [], periodic: [Double] = []
        for s in a {
            for t in b {
                squared.append((s - t) * (s - t))
                let sine = Foundation.sin(Double.pi * (s - t))
                periodic.append(2 * sine * sine)
            }
        }
        let shape = [a.count, b.count]
        return (Tensor(shape: shape, scalars: squared), Tensor(shape: shape, scalars: periodic))
    }

    /// k(·, ·) without the noise, from the constant matrices d² and 2 sin²(π d):
    /// exp(2θ₀ − d²·e^(−2θ₁)/2) + exp(2θ₂ − 2sin²(πd)·e^(−2θ₃) − d²·e^(−2θ₄)/2).
    static func kernel(_ theta: Tensor<Double>, squared: Tensor<Double>, periodic: Tensor<Double>) -> Tensor<Double> {
        let trend = exp(theta[0] * 2 - squared * (exp(theta[1] * -2) * 0.5))
        let seasonal = exp(theta[2] * 2 - periodic * exp(theta[3] * -2) - squared * (exp(theta[4] * -2) * 0.5))
        return trend + seasonal
    }

    /// K = k(t, t) + (σₙ² + jitter)·I.
    func covariance(_ theta: Tensor<Double>) -> Tensor<Double> {
        let n = times.count
        let noise = exp(theta[5] * 2) + GaussianProcessModel.jitter
        return GaussianProcessModel.kernel(theta, squared: squaredDistances, periodic: periodicDistances)
            + Tensor(identity: n) * noise
    }

    /// log p(y | θ) = −½‖L⁻¹y‖² − Σᵢ log Lᵢᵢ − (n/2) log 2π with K = L·Lᵀ.
    func logMarginalLikelihood(_ theta: Tensor<Double>) -> Tensor<Double> {
        let l = cholesky(covariance(theta))
        let z = triangularSolve(l, y)                         // L⁻¹y
        let n = Double(times.count)
        return -(z.squared().sum() / 2) - log(l.diagonal()).sum() - n / 2 * Foundation.log(2 * Double.pi)
    }

    /// The posterior of the latent function at `years`: mean K*ᵀK⁻¹y and variance k(t*, t*) − ‖L⁻¹K*‖² per point,
    /// with K* = k(t, t*) [n, m].
    func posterior(_ theta: Tensor<Double>, at years: [Double]) -> (mean: Tensor<Double>, variance: Tensor<Double>) {
        let l = cholesky(covariance(theta))
        let (squared, periodic) = GaussianProcessModel.distances(times, years.map { $0 - 1980 })
        let cross = GaussianProcessModel.kernel(theta, squared: squared, periodic: periodic)
        let alpha = triangularSolve(l, triangularSolve(l, y), transpose: true)   // K⁻¹y
        let v = triangularSolve(l, cross)                                       // L⁻¹K*
        let prior = exp(theta[0] * 2) + exp(theta[2] * 2)                       // k(t, t)
        return (matmul(alpha.unsqueezed(at: 0), cross).flattened(), prior - v.squared().sum(alongAxes: 0))
    }
}

extension Example {
    /// `autograd example gp [--json] [--plot FILE.svg] [--points N] [--steps N]`.
    struct GP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gp",
            abstract: "Gaussian-process regression of the Mauna Loa CO₂ record: hyperparameters fitted by maximizing "
                + "the log marginal likelihood (Cholesky, triangular solves) with gradients, one Newton step with "
                + "the Hessian, both checked against finite differences."
        )

        @Flag(help: "Print one JSON object (log_marginal_likelihood, hyperparameters, finite_difference_agreement, ...).")
        var json = false

        @Option(help: ArgumentHelp("Also write a plot of the data, the posterior mean and its ±2σ band to this SVG file.",
                                   valueName: "file"))
        var plot: String?

        @Option(help: "Months fitted, evenly spaced through the 521 of the record.")
        var points = 150

        @Option(help: "Adam steps of each fit.")
        var steps = 150

        func validate() throws {
            if points < 8 { throw ValidationError("--points must be at least 8") }
            if steps < 1 { throw ValidationError("--steps must be at least 1") }
        }

        func run() throws {
            let r = try GaussianProcessExample(points: points, steps: steps)
            if let plot {
                try r.svg().write(toFile: plot, atomically: true, encoding: .utf8)
            }
            if json {
                print(JSON.string(r.json))
                return
            }
            func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
            let h = r.hyperparameters
            print("""
            Gaussian-process regression of monthly CO₂ at Mauna Loa, \(r.points) of \(r.data.years.count) months \
            (1958–2001)
            kernel: long-term RBF + seasonal (period 1 year) × RBF + noise; 6 hyperparameters in log space
            log marginal likelihood: start \(f(r.startLogLikelihood)), after \(r.steps) Adam steps \
            \(f(r.fittedLogLikelihood)) (‖∇‖ = \(String(format: "%.2e", r.fittedGradientNorm))), after one Newton step \
            \(f(r.finalLogLikelihood)) (‖∇‖ = \(String(format: "%.2e", r.finalGradientNorm)))
            hyperparameters: long-term amplitude \(f(h["long_term_amplitude"]!, 1)) ppm, length scale \
            \(f(h["long_term_length_scale"]!, 1)) years; seasonal amplitude \(f(h["seasonal_amplitude"]!, 2)) ppm, \
            smoothness \(f(h["seasonal_smoothness"]!, 2)), decay \(f(h["seasonal_decay"]!, 1)) years; noise \
            \(f(h["noise"]!, 2)) ppm
            against central differences: gradient \(String(format: "%.1e", r.gradientDifference)), Hessian \
            \(String(format: "%.1e", r.hessianDifference)) (relative); Hessian \
            \(r.hessianNegativeDefinite ? "negative definite" : "NOT negative definite")
            fit with the library's gradient \(f(r.fitSeconds, 2)) s; the same fit with finite-difference gradients \
            \(f(r.differenceFitSeconds, 2)) s, log marginal likelihood \(f(r.differenceFittedLogLikelihood))
            """)
            if let e = r.heldOutError { print("months not fitted: posterior mean off by \(f(e, 2)) ppm (RMS)") }
            if let plot { print("plot: \(plot)") }
        }
    }
}
