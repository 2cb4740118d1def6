/// One measured number for one checkpoint in one setting (docs/method.md §1).
///
/// This is the unit clients upload and the fit consumes. Validation of the raw input (which CSV line,
/// which JSON field) lives with the ingestion formats; `Evaluation.problems()` states the rules that
/// every format shares, so the CLI, the API and the database CHECK constraints agree.
public struct Evaluation: Codable, Sendable, Equatable, Hashable {
    public enum Setting: String, Codable, Sendable, CaseIterable {
        case fewShot = "few_shot"
        case finetuned = "finetuned"
    }

    /// Identity of the base-model checkpoint (model + step).
    public var checkpoint: String
    public var model: String?
    public var parameters: Double?
    public var tokens: Double?
    /// Pretraining FLOPs; when absent, 6 · parameters · tokens (see `effectiveFlops`).
    public var flops: Double?
    /// Held-out pretraining loss in nats/token: the x-axis of fits. Lower = more capable. nil when
    /// the upload did not give it, as in public leaderboards that report only FLOPs (or parameters
    /// and tokens): `observe` on the flops axis works without it; fits do not (`problems()`).
    public var pretrainLossIfGiven: Double?
    /// The loss, for code that has checked it is there: every fit path rejects a row without it
    /// (`problems(requiringLoss: true)`, the default) before any math runs. NaN when absent, so a
    /// path that forgot the check yields NaN (which every result check catches), never a trap.
    public var pretrainLoss: Double {
        get { pretrainLossIfGiven ?? .nan }
        set { pretrainLossIfGiven = newValue }
    }
    public var setting: Setting
    /// In-context examples (few-shot rows). The default D0 is the shots of the few-shot rows.
    public var shots: Int?
    /// D, the number of finetuning examples (finetuned rows).
    public var finetuneExamples: Double?
    /// Which random subset of size D was used (runs are repeated on several subsets).
    public var subset: String?
    /// The metric, in [0, 1].
    public var accuracy: Double
    /// Size of the evaluation set; enables the binomial noise model.
    public var nQuestions: Int?

    public init(checkpoint: String, model: String? = nil, parameters: Double? = nil, tokens: Double? = nil,
                flops: Double? = nil, pretrainLoss: Double?, setting: Setting, shots: Int? = nil,
                finetuneExamples: Double? = nil, subset: String? = nil, accuracy: Double,
                nQuestions: Int? = nil) {
        self.checkpoint = checkpoint
        self.model = model
        self.parameters = parameters
        self.tokens = tokens
        self.flops = flops
        self.pretrainLossIfGiven = pretrainLoss
        self.setting = setting
        self.shots = shots
        self.finetuneExamples = finetuneExamples
        self.subset = subset
        self.accuracy = accuracy
        self.nQuestions = nQuestions
    }

    enum CodingKeys: String, CodingKey {
        case checkpoint, model, parameters, tokens, flops
        case pretrainLossIfGiven = "pretrain_loss"
        case setting, shots
        case finetuneExamples = "finetune_examples"
        case subset, accuracy
        case nQuestions = "n_questions"
    }

    /// FLOPs as given, else the usual 6·N·T estimate; nil when neither is known.
    public var effectiveFlops: Double? {
        if let flops { return flops }
        if let parameters, let tokens { return 6 * parameters * tokens }
        return nil
    }

    /// A problem with one field of one evaluation.
    public struct Problem: Sendable, Equatable, Hashable, Codable {
        public var field: String
        public var reason: String
        public init(field: String, reason: String) { self.field = field; self.reason = reason }
    }

    /// The longest `checkpoint`, `model` or `subset` taken, in bytes of UTF-8. Names are identities
    /// and labels ("pythia-1.4b@step143000"), not documents: a 100 KB "name" would be copied into
    /// every identity table, index and response that holds the row.
    public static let maxTextBytes = 256

    /// Why a fit cannot use a row without `pretrain_loss`, worded for the row's problem line.
    public static let lossRequiredReason =
        "is required for a fit (the emergence law's x-axis); only `observe` on the flops axis works without it"

    /// The validation rules every ingestion format shares (docs/method.md §1). Empty when valid.
    /// - requiringLoss: whether a missing `pretrain_loss` is a problem: true for fits (the default),
    ///   false for uploads and observations, which accept rows with only FLOPs.
    public func problems(requiringLoss: Bool = true) -> [Problem] {
        var out: [Problem] = []
        func bad(_ f: String, _ r: String) { out.append(Problem(field: f, reason: r)) }
        if checkpoint.isEmpty { bad("checkpoint", "must not be empty") }
        func limit(_ f: String, _ s: String?) {
            if let n = s?.utf8.count, n > Self.maxTextBytes {
                bad(f, "must be at most \(Self.maxTextBytes) bytes of UTF-8 (got \(n))")
            }
        }
        limit("checkpoint", checkpoint)
        limit("model", model)
        limit("subset", subset)
        if let l = pretrainLossIfGiven {
            if !l.isFinite || l <= 0 { bad("pretrain_loss", "must be a finite number > 0") }
        } else if requiringLoss {
            bad("pretrain_loss", Self.lossRequiredReason)
        }
        if !accuracy.isFinite || accuracy < 0 || accuracy > 1 { bad("accuracy", "must be a number in [0, 1]") }
        if let v = parameters, !(v.isFinite && v > 0) { bad("parameters", "must be a finite number > 0") }
        if let v = tokens, !(v.isFinite && v > 0) { bad("tokens", "must be a finite number > 0") }
        if let v = flops, !(v.isFinite && v > 0) { bad("flops", "must be a finite number > 0") }
        if let v = shots, v < 0 { bad("shots", "must be an integer >= 0") }
        if let v = nQuestions, v <= 0 { bad("n_questions", "must be an integer > 0") }
        switch setting {
        case .finetuned:
            if let d = finetuneExamples {
                if !(d.isFinite && d >= 1) { bad("finetune_examples", "must be a number >= 1") }
            } else {
                bad("finetune_examples", "is required for a finetuned row")
            }
        case .fewShot:
            if let d = finetuneExamples, !(d.isFinite && d >= 0) {
                bad("finetune_examples", "must be a number >= 0")
            }
        }
        return out
    }
}
