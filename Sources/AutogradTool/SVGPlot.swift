import Foundation

/// A small line chart written as SVG by hand: one or two panels side by side, each with axes, ticks, a title and
/// one or more named series. Enough for training curves and fitted functions; no dependencies.
struct SVGChart {
    /// One curve (or scatter of dots).
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dots = false
    }

    /// One panel: a title, axis labels and its series.
    struct Panel {
        var title: String
        var xLabel: String
        var yLabel: String
        var series: [Series]
        /// A fixed y range (nil: from the data, padded).
        var yRange: ClosedRange<Double>? = nil
    }

    var panels: [Panel]
    var panelWidth = 460.0
    var height = 320.0

    /// The SVG document.
    var svg: String {
        let width = panelWidth * Double(panels.count)
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
        for (i, panel) in panels.enumerated() { out += draw(panel, left: Double(i) * panelWidth) }
        return out + "</svg>\n"
    }

    private func draw(_ panel: Panel, left: Double) -> String {
        let (x0, x1) = (left + 60, left + panelWidth - 20)
        let (y0, y1) = (height - 45, 35.0)   // bottom and top of the plot area
        let xs = panel.series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = panel.series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        var (xmin, xmax) = (xs.min() ?? 0, xs.max() ?? 1)
        var (ymin, ymax) = panel.yRange.map { ($0.lowerBound, $0.upperBound) } ?? (ys.min() ?? 0, ys.max() ?? 1)
        if xmax <= xmin { xmax = xmin + 1 }
        if ymax <= ymin { (ymin, ymax) = (ymin - 0.5, ymax + 0.5) }
        if panel.yRange == nil { let pad = 0.05 * (ymax - ymin); ymin -= pad; ymax += pad }
        if xmax - xmin == 0 { xmin -= 1 }
        func px(_ x: Double) -> Double { x0 + (x - xmin) / (xmax - xmin) * (x1 - x0) }
        func py(_ y: Double) -> Double { y0 - (y - ymin) / (ymax - ymin) * (y0 - y1) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = "<g>\n"
        out += "<text x=\"\(f((x0 + x1) / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">\(escape(panel.title))</text>\n"
        out += "<line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x1))\" y2=\"\(f(y0))\" stroke=\"black\"/>\n"
        out += "<line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x0))\" y2=\"\(f(y1))\" stroke=\"black\"/>\n"
        for t in ticks(xmin, xmax) {
            out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(y0))\" x2=\"\(f(px(t)))\" y2=\"\(f(y0 + 4))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(px(t)))\" y=\"\(f(y0 + 16))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        for t in ticks(ymin, ymax) {
            out += "<line x1=\"\(f(x0 - 4))\" y1=\"\(f(py(t)))\" x2=\"\(f(x1))\" y2=\"\(f(py(t)))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(f(x0 - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        out += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escape(panel.xLabel))</text>\n"
        out += "<text x=\"\(f(left + 14))\" y=\"\(f((y0 + y1) / 2))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 \(f(left + 14)) \(f((y0 + y1) / 2)))\">\(escape(panel.yLabel))</text>\n"
        for (k, series) in panel.series.enumerated() {
            let visible = series.points.filter { $0.x.isFinite && $0.y.isFinite }
            if series.dots {
                for p in visible {
                    out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"1.5\" fill=\"\(series.color)\"/>"
                }
                out += "\n"
            } else if !visible.isEmpty {
                let path = visible.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            }
            let ly = y1 + 14 * Double(k) + 4
            out += "<rect x=\"\(f(x1 - 130))\" y=\"\(f(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(series.color)\"/>"
            out += "<text x=\"\(f(x1 - 115))\" y=\"\(f(ly + 1))\">\(escape(series.name))</text>\n"
        }
        return out + "</g>\n"
    }

    /// About five round tick positions in [a, b].
    private func ticks(_ a: Double, _ b: Double) -> [Double] {
        let raw = (b - a) / 5
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = Foundation.ceil(a / step) * step
        var result: [Double] = []
        while t <= b + 1e-9 * step { result.append(t); t += step }
        return result
    }

    private func label(_ v: Double) -> String {
        if v == v.rounded() && Swift.abs(v) < 1e6 { return String(Int(v)) }
        return String(format: Swift.abs(v) < 0.01 ? "%.2g" : "%.3g", v)
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
