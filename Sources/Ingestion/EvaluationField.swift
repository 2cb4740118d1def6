import EmergenceCore
import Foundation

/// The upload fields of docs/method.md §1, by their wire names. CSV columns and JSON keys share them.
enum EvaluationField: Int, CaseIterable, Sendable {
    case checkpoint, model, parameters, tokens, flops, pretrainLoss, setting, shots, finetuneExamples,
         subset, accuracy, nQuestions

    var name: String {
        switch self {
        case .checkpoint: return "checkpoint"
        case .model: return "model"
        case .parameters: return "parameters"
        case .tokens: return "tokens"
        case .flops: return "flops"
        case .pretrainLoss: return "pretrain_loss"
        case .setting: return "setting"
        case .shots: return "shots"
        case .finetuneExamples: return "finetune_examples"
        case .subset: return "subset"
        case .accuracy: return "accuracy"
        case .nQuestions: return "n_questions"
        }
    }

    /// What a field's value is, which decides how each reader reads it (`EvaluationDraft.set`
    /// stores it).
    enum Kind {
        /// checkpoint, model, subset.
        case text
        /// few_shot or finetuned.
        case setting
        /// shots, n_questions.
        case integer
        /// parameters, tokens, flops, pretrain_loss, finetune_examples, accuracy.
        case number
    }

    var kind: Kind {
        switch self {
        case .checkpoint, .model, .subset: return .text
        case .setting: return .setting
        case .shots, .nQuestions: return .integer
        case .parameters, .tokens, .flops, .pretrainLoss, .finetuneExamples, .accuracy: return .number
        }
    }

    /// Required by every reader. `pretrain_loss` is not: rows with only FLOPs can be observed; fits
    /// ask for it (`EvaluationDraft.requireLoss`, `Evaluation.problems(requiringLoss:)`).
    var isRequired: Bool {
        switch self {
        case .checkpoint, .setting, .accuracy: return true
        default: return false
        }
    }

    static func named(_ name: String) -> EvaluationField? {
        switch name {
        case "checkpoint": return .checkpoint
        case "model": return .model
        case "parameters": return .parameters
        case "tokens": return .tokens
        case "flops": return .flops
        case "pretrain_loss": return .pretrainLoss
        case "setting": return .setting
        case "shots": return .shots
        case "finetune_examples": return .finetuneExamples
        case "subset": return .subset
        case "accuracy": return .accuracy
        case "n_questions": return .nQuestions
        default: return nil
        }
    }
}

/// Collects one row's fields, whatever the format, and turns them into an `Evaluation` or problems.
///
/// A field whose raw value is already bad (not a number, wrong type) is reported once, by the format;
/// the shared rules of `Evaluation.problems()` then run on the rest, skipping fields already reported,
/// so a client sees one reason per bad field.
struct EvaluationDraft {
    var checkpoint: String?
    var model: String?
    var parameters: Double?
    var tokens: Double?
    var flops: Double?
    var pretrainLoss: Double?
    var setting: Evaluation.Setting?
    var shots: Int?
    var finetuneExamples: Double?
    var subset: String?
    var accuracy: Double?
    var nQuestions: Int?
    /// Whether a missing `pretrain_loss` is a problem (a fit's input) or allowed (uploads, observe).
    var requireLoss = false

    /// Fields already reported, as a bit set over `EvaluationField.rawValue`.
    private var reported: UInt32 = 0
    private(set) var problems: [(field: String, reason: String)] = []

    /// The field→draft mapping every reader shares: a text field's value.
    @inline(__always)
    mutating func set(_ f: EvaluationField, text: String) {
        switch f {
        case .checkpoint: checkpoint = text
        case .model: model = text
        default: subset = text
        }
    }

    /// An integer field's value (shots, n_questions).
    @inline(__always)
    mutating func set(_ f: EvaluationField, integer: Int) {
        if f == .shots { shots = integer } else { nQuestions = integer }
    }

    /// A number field's value (parameters, tokens, flops, pretrain_loss, finetune_examples, accuracy).
    @inline(__always)
    mutating func set(_ f: EvaluationField, number: Double) {
        switch f {
        case .parameters: parameters = number
        case .tokens: tokens = number
        case .flops: flops = number
        case .pretrainLoss: pretrainLoss = number
        case .finetuneExamples: finetuneExamples = number
        default: accuracy = number
        }
    }

    mutating func report(_ field: EvaluationField, _ reason: String) {
        reported |= 1 << UInt32(field.rawValue)
        problems.append((field.name, reason))
    }

    mutating func reportRow(_ field: String, _ reason: String) {
        problems.append((field, reason))
    }

    func wasReported(_ field: EvaluationField) -> Bool { reported & (1 << UInt32(field.rawValue)) != 0 }

    /// The evaluation, or nil when any problem was recorded (read `problems`).
    mutating func finish() -> Evaluation? {
        for f in [EvaluationField.checkpoint, .setting, .accuracy] where !wasReported(f) {
            let missing: Bool
            switch f {
            case .checkpoint: missing = checkpoint == nil
            case .setting: missing = setting == nil
            default: missing = accuracy == nil
            }
            if missing { report(f, "is required") }
        }
        // Placeholders stand in for fields already reported so the shared rules can run on the rest.
        let e = Evaluation(checkpoint: checkpoint ?? "?", model: model, parameters: parameters, tokens: tokens,
                           flops: flops, pretrainLoss: pretrainLoss, setting: setting ?? .fewShot,
                           shots: shots, finetuneExamples: finetuneExamples, subset: subset,
                           accuracy: accuracy ?? 0, nQuestions: nQuestions)
        for p in e.problems(requiringLoss: requireLoss) {
            if let f = EvaluationField.named(p.field), wasReported(f) { continue }
            // A finetuned-only rule makes no sense when the setting itself was unreadable.
            if p.field == "finetune_examples" && wasReported(.setting) { continue }
            problems.append((p.field, p.reason))
        }
        return problems.isEmpty ? e : nil
    }
}

/// Which names other than the evaluation fields an upload may carry, and what happens to the rest.
///
/// Every CSV column and JSON key must be an evaluation field (docs/method.md §1), be listed in `ignored`
/// (the upload's `?ignore=a,b`, the CLI's `--ignore a,b`), or begin with `extra_` or `extra.` (or be
/// `extra`): a caller states that a column is bookkeeping rather than have a misspelt one
/// (`subst` for `subset`) silently dropped. Anything else is refused, naming the closest field.
/// The server and the CLI read files under the same rules, so they never disagree on a file.
public struct ColumnRules: Sendable, Equatable {
    /// Names read as bookkeeping and left out, whatever they are.
    public var ignored: Set<String>

    public init(ignoring ignored: Set<String> = []) { self.ignored = ignored }

    /// The rules of a request's query parameters: `ignore` is a comma-separated list of names.
    public init(parameters: [String: String]) {
        self.init(ignoring: Self.names(parameters["ignore"] ?? ""))
    }

    /// "a, b,,c" → ["a", "b", "c"].
    public static func names(_ list: String) -> Set<String> {
        Set(list.split(separator: ",").map { String($0).trimmingASCIISpaces() }.filter { !$0.isEmpty })
    }

    /// Whether a name that is not an evaluation field is to be left out quietly.
    public func allows(_ name: String) -> Bool {
        ignored.contains(name) || name == "extra" || name.hasPrefix("extra_") || name.hasPrefix("extra.")
    }

    /// The problem text for a name that is neither a field nor allowed, `what` being "column" or "key":
    /// the closest field when one is near, and how to keep the name on purpose.
    static func unknown(_ name: String, what: String) -> String {
        let shown = name.clipped()
        var s = "unknown \(what)"
        if let near = EvaluationField.closest(to: name) {
            s += "; did you mean `\(near.name)`?"
        } else {
            s += "; the fields are \(EvaluationField.allCases.map(\.name).joined(separator: ", "))"
        }
        s += " To leave it out on purpose, list it in ignore (?ignore=\(shown) on an upload, --ignore \(shown) on the command line) or name it extra_\(shown)"
        return s
    }
}

extension EvaluationField {
    /// Other spellings seen in exports, for suggestions only (never accepted as they are).
    private static let aliases: [String: EvaluationField] = [
        "loss": .pretrainLoss, "pretraining_loss": .pretrainLoss, "train_loss": .pretrainLoss,
        "acc": .accuracy, "score": .accuracy, "params": .parameters, "n_params": .parameters,
        "num_params": .parameters, "compute": .flops, "step": .checkpoint, "revision": .checkpoint,
        "task": .subset, "n_shot": .shots, "num_fewshot": .shots, "n_samples": .nQuestions,
        "num_questions": .nQuestions, "questions": .nQuestions,
    ]

    /// The field a misspelt or foreign name most likely meant; nil when none is close.
    static func closest(to raw: String) -> EvaluationField? {
        let name = raw.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        if let f = named(name) { return f }  // a case or separator slip
        if let f = aliases[name] { return f }
        var best = EvaluationField.checkpoint
        var bestDistance = Int.max
        for f in allCases {
            let d = editDistance(Array(name.utf8), Array(f.name.utf8))
            if d < bestDistance { best = f; bestDistance = d }
        }
        return bestDistance <= max(2, best.name.utf8.count / 3) ? best : nil
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.count > 64 || a.count > 64 { return Int.max / 2 }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...max(1, b.count) where j <= b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// What an upload's rows carried: the fields with a value in at least one row, and the names left
/// out by the caller's rules (in the order first seen), for the upload's answer.
struct ColumnsSeen: Sendable {
    private var used: UInt32 = 0
    private(set) var ignored: [String] = []
    /// Unknown names already reported: a misspelt JSON key is named once, at its first row.
    private var reported: Set<String> = []

    /// Whether `name` is reported for the first time (and notes it).
    mutating func firstReport(_ name: String) -> Bool { reported.insert(name).inserted }

    mutating func ignore(_ name: String) {
        if !ignored.contains(name) && ignored.count < 100 { ignored.append(name) }
    }

    mutating func mark(_ e: Evaluation) {
        var bits: UInt32 = 0
        func set(_ f: EvaluationField) { bits |= 1 << UInt32(f.rawValue) }
        set(.checkpoint); set(.setting); set(.accuracy)
        if (e.pretrainLoss as Double?) != nil { set(.pretrainLoss) }
        if e.model != nil { set(.model) }
        if e.parameters != nil { set(.parameters) }
        if e.tokens != nil { set(.tokens) }
        if e.flops != nil { set(.flops) }
        if e.shots != nil { set(.shots) }
        if e.finetuneExamples != nil { set(.finetuneExamples) }
        if e.subset != nil { set(.subset) }
        if e.nQuestions != nil { set(.nQuestions) }
        used |= bits
    }

    /// Field names in the canonical order (`EvaluationCSV.header`'s).
    var columns: [String] {
        EvaluationField.allCases.filter { used & (1 << UInt32($0.rawValue)) != 0 }.map(\.name)
    }
}
