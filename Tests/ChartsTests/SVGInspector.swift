@testable import EmergenceCore
import Foundation
import Ingestion
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Parses an SVG with Foundation's XMLParser (libxml2 underneath): a document that is not
/// well-formed XML fails the test, and the elements come back for questions about positions.
final class SVGInspector: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text: String
        func number(_ key: String) -> Double? { attributes[key].flatMap(Double.init) }
    }

    private(set) var elements: [Element] = []
    private var stack: [Int] = []
    private(set) var error: Error?

    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGInspector {
        let inspector = SVGInspector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = inspector
        let ok = parser.parse()
        XCTAssertTrue(ok, "not well-formed XML: \(String(describing: parser.parserError ?? inspector.error))", file: file, line: line)
        XCTAssertEqual(inspector.elements.first?.name, "svg", file: file, line: line)
        return inspector
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        stack.append(elements.count)
        elements.append(Element(name: elementName, attributes: attributes, text: ""))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    func all(_ name: String, where predicate: (Element) -> Bool = { _ in true }) -> [Element] {
        elements.filter { $0.name == name && predicate($0) }
    }

    /// Every `<text>`'s content, in document order.
    var texts: [String] { all("text").map(\.text) }
}

enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func result(_ name: String) throws -> FitResult {
        try JSONDecoder().decode(FitResult.self, from: Data(contentsOf: url(name)))
    }

    static func rows(_ name: String) throws -> [Evaluation] {
        try EvaluationCSV.parse([UInt8](try Data(contentsOf: url(name))))
    }
}
