import Foundation

extension GaussianProcessExample {
    /// A plot of the example as a standalone SVG document: every month of the record (the fitted ones filled), the
    /// posterior mean of the CO₂ curve from 1958 to 2006 (four years past the data) and its ±2σ band, with axes in
    /// years and ppm. Hand-written SVG 1.1, no scripts, no external resources.
    public func svg() -> String {
        let width = 900.0, height = 480.0
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let first = 1958.0, last = 2006.0
        let grid = (0...480).map { first + (last - first) * Double($0) / 480 }
        let (mean, sd) = posterior(at: grid)
        let upper = zip(mean, sd).map { $0 + 2 * $1 }, lower = zip(mean, sd).map { $0 - 2 * $1 }
        let low = ((Swift.min(data.ppm.min()!, lower.min()!) - 2) / 10).rounded(.down) * 10
        let high = ((Swift.max(data.ppm.max()!, upper.max()!) + 2) / 10).rounded(.up) * 10
        func x(_ year: Double) -> Double { left + (year - first) / (last - first) * (width - left - right) }
        func y(_ ppm: Double) -> Double { top + (high - ppm) / (high - low) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func points(_ years: [Double], _ values: [Double]) -> String {
            zip(years, values).map { "\(f(x($0))),\(f(y($1)))" }.joined(separator: " ")
        }

        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <title>Mauna Loa CO₂: Gaussian-process posterior</title>
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">Monthly CO₂ at Mauna Loa and the \
        Gaussian-process posterior (\(self.points) months fitted)</text>

        """
        // Axes, ticks and grid lines.
        let plotBottom = height - bottom, plotRight = width - right
        var tick = first.rounded(.up)
        while tick <= last {
            if Int(tick) % 5 == 0 {
                svg += "<line x1=\"\(f(x(tick)))\" y1=\"\(f(top))\" x2=\"\(f(x(tick)))\" y2=\"\(f(plotBottom))\" "
                    + "stroke=\"#e4e4e4\"/>\n"
                svg += "<text x=\"\(f(x(tick)))\" y=\"\(f(plotBottom + 18))\" text-anchor=\"middle\">\(Int(tick))</text>\n"
            }
            tick += 1
        }
        var level = low
        while level <= high {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(level)))\" x2=\"\(f(plotRight))\" y2=\"\(f(y(level)))\" "
                + "stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y(level) + 4))\" text-anchor=\"end\">\(Int(level))</text>\n"
            level += 10
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotRight - left))\" height=\"\(f(plotBottom - top))\" "
            + "fill=\"none\" stroke=\"black\"/>\n"
        svg += "<text x=\"\(f((left + plotRight) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">year</text>\n"
        svg += "<text transform=\"translate(18 \(f((top + plotBottom) / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "CO₂ (ppm)</text>\n"

        // The ±2σ band, the data, the mean.
        svg += "<polygon fill=\"#9ecae1\" fill-opacity=\"0.6\" stroke=\"none\" points=\""
            + points(grid + grid.reversed(), upper + lower.reversed()) + "\"/>\n"
        let fitted = Set(training)
        for i in data.years.indices {
            let style = fitted.contains(i) ? "fill=\"#222\"" : "fill=\"none\" stroke=\"#888\""
            svg += "<circle cx=\"\(f(x(data.years[i])))\" cy=\"\(f(y(data.ppm[i])))\" r=\"1.6\" \(style)/>\n"
        }
        svg += "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.4\" points=\"" + points(grid, mean) + "\"/>\n"

        // Legend.
        let lx = left + 16, ly = top + 18
        svg += """
        <rect x="\(f(lx - 8))" y="\(f(ly - 14))" width="250" height="66" fill="white" stroke="#bbb"/>
        <circle cx="\(f(lx + 6))" cy="\(f(ly))" r="2.5" fill="#222"/>
        <text x="\(f(lx + 20))" y="\(f(ly + 4))">monthly mean, fitted (hollow: not fitted)</text>
        <line x1="\(f(lx))" y1="\(f(ly + 18))" x2="\(f(lx + 14))" y2="\(f(ly + 18))" stroke="#08519c" stroke-width="2"/>
        <text x="\(f(lx + 20))" y="\(f(ly + 22))">posterior mean</text>
        <rect x="\(f(lx))" y="\(f(ly + 30))" width="14" height="10" fill="#9ecae1"/>
        <text x="\(f(lx + 20))" y="\(f(ly + 40))">±2 posterior standard deviations</text>
        </svg>

        """
        return svg
    }
}
