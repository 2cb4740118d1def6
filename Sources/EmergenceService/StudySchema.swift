import Jobs
import Storage

/// The tables of studies and their evaluations (this module's stores own them). CHECK constraints
/// repeat the upload rules of docs/method.md §1 (`Evaluation.problems()`), so a bug in a code path
/// that skips validation still cannot store a bad row. `x < 9e999` reads "finite": SQLite parses 9e999
/// as +Inf and stores NaN as NULL. Append new migrations; never edit a shipped one. The job table's
/// parts of the same versions are in Jobs (JobSchema).
enum StudySchema {
    static let migrations: [Migration] = [
        Migration(version: 1, script: """
        CREATE TABLE study (
            -- AUTOINCREMENT: an id (and the URL holding it) is never reused after a delete.
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            name         TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
            task         TEXT    CHECK (task IS NULL OR length(task) <= 200),
            chance       REAL    CHECK (chance IS NULL OR (chance >= 0 AND chance < 1)),
            shots        INTEGER CHECK (shots IS NULL OR shots >= 0),
            description  TEXT    CHECK (description IS NULL OR length(description) <= 10000),
            -- Bumped by every upload that changes a row; fits record the version they saw.
            data_version INTEGER NOT NULL DEFAULT 0 CHECK (data_version >= 0),
            -- Kept by uploads, so reading a study never counts its (possibly 10^5) rows.
            evaluation_count INTEGER NOT NULL DEFAULT 0 CHECK (evaluation_count >= 0),
            created_at   TEXT    NOT NULL
        ) STRICT;

        CREATE TABLE evaluation (
            id                INTEGER PRIMARY KEY,
            study_id          INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,
            checkpoint        TEXT    NOT NULL CHECK (length(checkpoint) > 0),
            model             TEXT,
            parameters        REAL    CHECK (parameters IS NULL OR (parameters > 0 AND parameters < 9e999)),
            tokens            REAL    CHECK (tokens IS NULL OR (tokens > 0 AND tokens < 9e999)),
            flops             REAL    CHECK (flops IS NULL OR (flops > 0 AND flops < 9e999)),
            pretrain_loss     REAL    NOT NULL CHECK (pretrain_loss > 0 AND pretrain_loss < 9e999),
            setting           TEXT    NOT NULL CHECK (setting IN ('few_shot', 'finetuned')),
            shots             INTEGER CHECK (shots IS NULL OR shots >= 0),
            finetune_examples REAL    CHECK (finetune_examples IS NULL OR (finetune_examples >= 0 AND finetune_examples < 9e999)),
            subset            TEXT,
            accuracy          REAL    NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
            n_questions       INTEGER CHECK (n_questions IS NULL OR n_questions > 0),
            CHECK (setting = 'few_shot' OR (finetune_examples IS NOT NULL AND finetune_examples >= 1))
        ) STRICT;
        -- The identity of a row: re-sending it updates instead of duplicating. NULLs are folded to
        -- sentinels because a UNIQUE index treats every NULL as distinct.
        CREATE UNIQUE INDEX evaluation_identity ON evaluation (
            study_id, checkpoint, setting, ifnull(shots, -1), ifnull(finetune_examples, -1), ifnull(subset, '')
        );
        """),

        // The unique identity index cost an upload about 2 µs a row: its keys (checkpoint names in no
        // particular order) land all over the tree, and every insert first searched it for a
        // conflict. Bulk ingest ran at ~150k rows/s, all of it in SQLite. Identity is now resolved
        // by the single writer (EvaluationStore keeps each study's identities in memory, rebuilt
        // inside the write transaction when stale), and rows need only an index by study, whose
        // keys arrive in order. `evaluation_by_study` serves every per-study read: (study_id, id),
        // since an index carries the rowid.
        Migration(version: 2, script: """
        DROP INDEX evaluation_identity;
        CREATE INDEX evaluation_by_study ON evaluation (study_id);
        """),

        // One row per identity is the database's rule again, not only the writer's: under v2 a
        // second server on the file or the sqlite3 shell could store an identity twice. The unique
        // index is v1's (NULLs folded to sentinels, since a UNIQUE index treats NULLs as distinct:
        // shots NULL ≠ 0, subset NULL = ''); the writer's in-memory table stays in front of it, so
        // an upload never searches the index to find a row, only to insert.
        //
        // A v2 file may already hold copies. Of each set the latest row (highest id) stays: it is
        // the one the service updated, so it holds the newest values. The older copies move to
        // `evaluation_superseded` with the id of the row that replaced them, instead of vanishing;
        // the note reports how many moved, and the studies they came from get a new data version
        // (their fits saw rows that are no longer counted) and a recounted evaluation_count.
        Migration(version: 3, script: """
        CREATE TABLE evaluation_superseded (
            id                INTEGER PRIMARY KEY,
            superseded_by     INTEGER NOT NULL,
            study_id          INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,
            checkpoint        TEXT    NOT NULL,
            model             TEXT,
            parameters        REAL,
            tokens            REAL,
            flops             REAL,
            pretrain_loss     REAL    NOT NULL,
            setting           TEXT    NOT NULL,
            shots             INTEGER,
            finetune_examples REAL,
            subset            TEXT,
            accuracy          REAL    NOT NULL,
            n_questions       INTEGER,
            superseded_at     TEXT    NOT NULL
        ) STRICT;
        CREATE INDEX evaluation_superseded_by_study ON evaluation_superseded (study_id);

        INSERT INTO evaluation_superseded (id, superseded_by, study_id, checkpoint, model, parameters, tokens, flops,
                                           pretrain_loss, setting, shots, finetune_examples, subset, accuracy,
                                           n_questions, superseded_at)
        SELECT e.id, k.keep, e.study_id, e.checkpoint, e.model, e.parameters, e.tokens, e.flops, e.pretrain_loss,
               e.setting, e.shots, e.finetune_examples, e.subset, e.accuracy, e.n_questions,
               strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
        FROM evaluation AS e
        JOIN (SELECT max(id) AS keep, study_id, checkpoint, setting, ifnull(shots, -1) AS s,
                     ifnull(finetune_examples, -1) AS f, ifnull(subset, '') AS u
              FROM evaluation GROUP BY study_id, checkpoint, setting, s, f, u HAVING count(*) > 1) AS k
          ON e.study_id = k.study_id AND e.checkpoint = k.checkpoint AND e.setting = k.setting
         AND ifnull(e.shots, -1) = k.s AND ifnull(e.finetune_examples, -1) = k.f AND ifnull(e.subset, '') = k.u
         AND e.id <> k.keep;
        DELETE FROM evaluation WHERE id IN (SELECT id FROM evaluation_superseded);
        UPDATE study SET data_version = data_version + 1,
                         evaluation_count = (SELECT count(*) FROM evaluation WHERE study_id = study.id)
        WHERE id IN (SELECT study_id FROM evaluation_superseded);

        CREATE UNIQUE INDEX evaluation_identity ON evaluation (
            study_id, checkpoint, setting, ifnull(shots, -1), ifnull(finetune_examples, -1), ifnull(subset, '')
        );
        """, note: """
        SELECT 'schema v3: ' || count(*) || ' evaluation row(s) duplicated an identity in '
               || count(DISTINCT study_id) || ' stud(ies); the latest copy of each was kept and the older ones moved to '
               || 'table evaluation_superseded'
        FROM evaluation_superseded HAVING count(*) > 0
        """),

        // A study's `auto_fit` holds its refit options (canonical FitOptions JSON; NULL: off), and
        // `auto_fit_due` the Unix time at which uploads' quiet period ends and a refit is queued
        // (NULL: none pending), so a pending refit survives a restart.
        Migration(version: 5, script: """
        ALTER TABLE study ADD COLUMN auto_fit TEXT CHECK (auto_fit IS NULL OR json_valid(auto_fit));
        ALTER TABLE study ADD COLUMN auto_fit_due REAL CHECK (auto_fit_due IS NULL OR auto_fit_due >= 0);
        CREATE INDEX study_auto_fit_due ON study (auto_fit_due) WHERE auto_fit_due IS NOT NULL;
        """),

        // A row may come without pretrain_loss (public leaderboards report only FLOPs, or parameters
        // and tokens): such rows can be observed on the flops axis, and a fit names them and refuses.
        // SQLite cannot drop a NOT NULL in place, so the table is rebuilt (same columns, same order,
        // same ids) with `pretrain_loss IS NULL OR` in its CHECK, and its two indexes re-created.
        // Nothing references `evaluation`, so dropping the old table cascades nowhere.
        Migration(version: 6, script: """
        CREATE TABLE evaluation_v6 (
            id                INTEGER PRIMARY KEY,
            study_id          INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,
            checkpoint        TEXT    NOT NULL CHECK (length(checkpoint) > 0),
            model             TEXT,
            parameters        REAL    CHECK (parameters IS NULL OR (parameters > 0 AND parameters < 9e999)),
            tokens            REAL    CHECK (tokens IS NULL OR (tokens > 0 AND tokens < 9e999)),
            flops             REAL    CHECK (flops IS NULL OR (flops > 0 AND flops < 9e999)),
            pretrain_loss     REAL    CHECK (pretrain_loss IS NULL OR (pretrain_loss > 0 AND pretrain_loss < 9e999)),
            setting           TEXT    NOT NULL CHECK (setting IN ('few_shot', 'finetuned')),
            shots             INTEGER CHECK (shots IS NULL OR shots >= 0),
            finetune_examples REAL    CHECK (finetune_examples IS NULL OR (finetune_examples >= 0 AND finetune_examples < 9e999)),
            subset            TEXT,
            accuracy          REAL    NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
            n_questions       INTEGER CHECK (n_questions IS NULL OR n_questions > 0),
            CHECK (setting = 'few_shot' OR (finetune_examples IS NOT NULL AND finetune_examples >= 1))
        ) STRICT;
        INSERT INTO evaluation_v6 SELECT id, study_id, checkpoint, model, parameters, tokens, flops, pretrain_loss, setting,
                                         shots, finetune_examples, subset, accuracy, n_questions FROM evaluation;
        DROP TABLE evaluation;
        ALTER TABLE evaluation_v6 RENAME TO evaluation;
        CREATE INDEX evaluation_by_study ON evaluation (study_id);
        CREATE UNIQUE INDEX evaluation_identity ON evaluation (
            study_id, checkpoint, setting, ifnull(shots, -1), ifnull(finetune_examples, -1), ifnull(subset, '')
        );
        """),

        // A study's `pool` tag says which studies pool their α for the lab's prior (NULL: none given,
        // the pool of every study). Checked as the API checks it: 1–100 of [A-Za-z0-9._-].
        Migration(version: 7, script: """
        ALTER TABLE study ADD COLUMN pool TEXT CHECK (pool IS NULL OR (length(pool) BETWEEN 1 AND 100
                                                                    AND pool NOT GLOB '*[^A-Za-z0-9._-]*'));
        CREATE INDEX study_by_pool ON study (pool) WHERE pool IS NOT NULL;
        """),
    ]
}

/// The whole database of the service: every module's migrations, a version's parts in the order
/// they run (studies first: the job table references them).
public enum ServiceSchema {
    public static let migrations: [Migration] = StudySchema.migrations + JobSchema.migrations
    /// The version a database has once every migration has run.
    public static var version: Int { migrations.map(\.version).max() ?? 0 }
}
