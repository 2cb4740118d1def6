import EmergenceCore
import Foundation

/// One evaluation from an lm-evaluation-harness results file, older or 0.4 shape (docs/method.md §9).
///
/// Older: `results.TASK.acc`, `config.num_fewshot`, `config.model_args` = `pretrained=…,revision=stepN`.
/// 0.4:   `results.TASK["acc,none"]`, `n-shot.TASK`, `n-samples.TASK.effective`, `config.model_args`.
/// What the file cannot say (the pretraining loss, the setting, D) comes from the upload's query
/// parameters, which also override what the file says.
public enum LMEvalHarness {
    /// Pythia checkpoints are 1,000 optimizer steps apart at 2,097,152 tokens a step (2M-token batches).
    static let pythiaTokensPerStep = 2_097_152.0

    /// Query parameters that steer the import, with the evaluation fields' names.
    public static let parameterNames = ["task", "metric", "checkpoint", "model", "parameters", "tokens", "flops",
                                        "pretrain_loss", "setting", "shots", "finetune_examples", "subset", "n_questions"]

    /// Whether a parsed JSON body looks like a harness results file.
    static func isResultsFile(_ root: JSONValue) -> Bool {
        if case .object? = root["results"] { return true }
        return false
    }

    public static func parse(_ bytes: [UInt8], parameters: [String: String]) throws -> [Evaluation] {
        let root = try JSONParser.parseBody(bytes)
        return [try evaluation(from: root, parameters: parameters)]
    }

    static func evaluation(from root: JSONValue, parameters q: [String: String]) throws -> Evaluation {
        func fail(_ field: String, _ reason: String) -> IngestionError {
            IngestionError(problems: [RowProblem(index: 0, field: field, reason: reason)])
        }
        guard case .object(let tasks)? = root["results"] else {
            throw fail("results", "not an lm-evaluation-harness results file: no \"results\" object")
        }
        let taskNames = tasks.map(\.0)
        let task: String
        if let t = q["task"], !t.isEmpty {
            guard taskNames.contains(t) else {
                throw fail("task", "task \"\(t.clipped())\" is not in the file; it holds \(listed(taskNames))")
            }
            task = t
        } else if taskNames.count == 1 {
            task = taskNames[0]
        } else {
            throw fail("task", "the file holds \(taskNames.count) tasks; choose one with ?task= (\(listed(taskNames)))")
        }
        guard case .object(let metrics)? = root["results"]?[task] else {
            throw fail("results", "results.\(task) is not an object")
        }
        let metric = q["metric"].flatMap { $0.isEmpty ? nil : $0 } ?? "acc"
        // 0.4 keys carry a filter after a comma ("acc,none"); take the plain name, else the "none" filter.
        let value = metrics.first { $0.0 == metric }?.1
            ?? metrics.first { $0.0 == metric + ",none" }?.1
            ?? metrics.first { $0.0.hasPrefix(metric + ",") }?.1
        guard let value else {
            let names = metrics.map(\.0).filter { !$0.contains("stderr") && $0 != "alias" }
            throw fail("metric", "results.\(task) has no metric \"\(metric.clipped())\"; it has \(listed(names)) (choose with ?metric=)")
        }

        let config = root["config"]
        let modelArgs = Self.modelArguments(config?["model_args"])
        let pretrained = modelArgs["pretrained"] ?? modelArgs["model"]
        let revision = modelArgs["revision"]

        var draft = EvaluationDraft()
        // A query parameter that is present but unreadable is reported under its field name.
        func number(_ f: EvaluationField) -> Double?? {
            guard let raw = q[f.name], !raw.isEmpty else { return .none }
            let bytes = Array(raw.utf8)
            let outcome = bytes.withUnsafeBufferPointer { NumberText.parse($0, 0, $0.count) }
            switch outcome {
            case .number(let d): return .some(d)
            case .notFinite: draft.report(f, "must be a finite number (query parameter \(f.name)=\(raw.clipped()))"); return .some(nil)
            case .notANumber: draft.report(f, "must be a number (query parameter \(f.name)=\(raw.clipped()))"); return .some(nil)
            }
        }
        func integer(_ f: EvaluationField) -> Int?? {
            guard let d = number(f) else { return .none }
            guard let d else { return .some(nil) }
            guard let i = NumberText.integer(d) else { draft.report(f, "must be an integer (query parameter \(f.name))"); return .some(nil) }
            return .some(i)
        }

        draft.checkpoint = q["checkpoint"].flatMap { $0.isEmpty ? nil : $0 }
            ?? pretrained.map { p in revision.map { "\(p)@\($0)" } ?? p }
        draft.model = q["model"].flatMap { $0.isEmpty ? nil : $0 } ?? pretrained.map { String($0.split(separator: "/").last ?? Substring($0)) }
        if case .number(let acc) = value { draft.accuracy = acc } else {
            draft.report(.accuracy, "results.\(task).\(metric) must be a number (got \(value.kindName))")
        }
        if let p = number(.parameters) { draft.parameters = p } else { draft.parameters = draft.model.flatMap(Self.sizeInName) }
        if let t = number(.tokens) {
            draft.tokens = t
        } else if let p = pretrained, p.lowercased().contains("pythia"), let step = revision.flatMap(Self.step) {
            draft.tokens = step > 0 ? Double(step) * pythiaTokensPerStep : nil
        }
        if let f = number(.flops) { draft.flops = f }
        if let l = number(.pretrainLoss) { draft.pretrainLoss = l } else if !draft.wasReported(.pretrainLoss) {
            draft.report(.pretrainLoss, "is required: the harness file does not hold the pretraining loss; pass ?pretrain_loss=")
        }
        if let s = q["setting"], !s.isEmpty {
            if let setting = Evaluation.Setting(rawValue: s) { draft.setting = setting } else {
                draft.report(.setting, "must be few_shot or finetuned (query parameter setting=\(s.clipped()))")
            }
        } else {
            draft.setting = .fewShot
        }
        if let s = integer(.shots) { draft.shots = s } else {
            if case .number(let n)? = config?["num_fewshot"] { draft.shots = NumberText.integer(n) }
            else if case .number(let n)? = root["n-shot"]?[task] { draft.shots = NumberText.integer(n) }
        }
        if let d = number(.finetuneExamples) { draft.finetuneExamples = d }
        draft.subset = q["subset"].flatMap { $0.isEmpty ? nil : $0 }
        if let n = integer(.nQuestions) { draft.nQuestions = n } else if case .number(let n)? = root["n-samples"]?[task]?["effective"] {
            draft.nQuestions = NumberText.integer(n)
        }
        if let e = draft.finish() { return e }
        throw IngestionError(problems: draft.problems.map { RowProblem(index: 0, field: $0.field, reason: $0.reason) })
    }

    /// `model_args` as a dictionary: the older shape writes `"k=v,k=v"`, 0.4 may write an object.
    static func modelArguments(_ v: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        switch v {
        case .string(let s)?:
            for part in s.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
        case .object(let members)?:
            for (k, v) in members { if case .string(let s) = v { out[k] = s } }
        default: break
        }
        return out
    }

    /// "step143000" → 143000.
    static func step(_ revision: String) -> Int? {
        guard revision.hasPrefix("step") else { return nil }
        return Int(revision.dropFirst(4))
    }

    /// Parameter count from a model name's size token: "pythia-1.4b" → 1.4e9, "pythia-v1.1-160m" → 1.6e8.
    static func sizeInName(_ name: String) -> Double? {
        let parts = name.lowercased().split { !($0.isLetter || $0.isNumber || $0 == ".") }
        for part in parts.reversed() {
            guard let unit = part.last, let scale = ["k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12][String(unit)] else { continue }
            if let n = Double(part.dropLast()), n > 0 { return n * scale }
        }
        return nil
    }

    private static func listed(_ names: [String]) -> String {
        let shown = names.prefix(8).joined(separator: ", ")
        return names.count > 8 ? shown + ", … (\(names.count) in all)" : shown
    }
}
