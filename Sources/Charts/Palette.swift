import Foundation

/// Colours. Data amounts are ordered, so they take ordered colours: samples of viridis (perceptually
/// uniform, readable in grey and by the common colour-vision deficiencies), stopped at 0.88 so the
/// last colour still stands out on white.
enum Palette {
    private static let viridis: [(Double, Double, Double)] = [
        (0x44, 0x01, 0x54), (0x48, 0x28, 0x78), (0x3e, 0x4a, 0x89), (0x31, 0x68, 0x8e), (0x26, 0x82, 0x8e),
        (0x1f, 0x9e, 0x89), (0x35, 0xb7, 0x79), (0x6d, 0xcd, 0x59), (0xb4, 0xde, 0x2c), (0xfd, 0xe7, 0x25),
    ]

    /// The i-th of n ordered colours, as #rrggbb.
    static func ordered(_ i: Int, of n: Int) -> String {
        let t = n <= 1 ? 0.0 : 0.88 * Double(i) / Double(n - 1)
        let pos = t * Double(viridis.count - 1)
        let j = min(viridis.count - 2, Int(pos))
        let f = pos - Double(j)
        let a = viridis[j], b = viridis[j + 1]
        func channel(_ x: Double, _ y: Double) -> String {
            let v = Int((x + (y - x) * f).rounded())
            let hex = String(v, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(a.0, b.0) + channel(a.1, b.1) + channel(a.2, b.2)
    }

    static let fewShot = "#111111"
    static let unused = "#9a9a9a"
    static let band = "#f4a261"
    static let estimate = "#c0392b"
    static let floor = "#555555"
    static let here = "#1d5fa8"
}
