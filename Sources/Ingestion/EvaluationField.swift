import EmergenceCore

/// The upload fields of METHOD.md §2, by their wire names. CSV columns and JSON keys share them.
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
