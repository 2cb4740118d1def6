import Storage

/// The job table (named `fit`, its first kind: its fits keep their ids and URLs) and its indexes:
/// this module's parts of the service's schema versions. A version's part here runs after the
/// study tables' part of the same version (in EmergenceService), in the same transaction. Append
/// new migrations; never edit a shipped one.
package enum JobSchema {
    package static let migrations: [Migration] = [
        Migration(version: 1, script: """
        CREATE TABLE fit (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            study_id         INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,
            status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
            progress         REAL    NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
            -- FitOptions as canonical JSON (every field, sorted keys): equal options, equal text.
            options          TEXT    NOT NULL CHECK (json_valid(options)),
            data_version     INTEGER NOT NULL CHECK (data_version >= 0),
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            -- How many times a worker has started it (more than 1 after a restart).
            attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at       TEXT    NOT NULL,
            started_at       TEXT,
            finished_at      TEXT,
            result           TEXT    CHECK (result IS NULL OR json_valid(result)),
            error            TEXT,
            CHECK ((status = 'succeeded') = (result IS NOT NULL)),
            CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
        ) STRICT;
        CREATE INDEX fit_queue ON fit (status, id);
        CREATE INDEX fit_by_study ON fit (study_id, id);
        CREATE INDEX fit_same_request ON fit (study_id, data_version, options);
        """),

        // A fit that runs past its wall-clock limit ends as `timed_out`, a status of its own so a
        // client can tell "too much work for this server" from a failure of the math. SQLite cannot
        // change a CHECK in place, so the table is rebuilt (same columns, same order), keeping the
        // AUTOINCREMENT high-water mark so a deleted fit's id is still never reused.
        Migration(version: 4, script: """
        CREATE TABLE fit_v4 (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            study_id         INTEGER NOT NULL REFERENCES study(id) ON DELETE CASCADE,
            status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
            progress         REAL    NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
            options          TEXT    NOT NULL CHECK (json_valid(options)),
            data_version     INTEGER NOT NULL CHECK (data_version >= 0),
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            -- How many times a worker has started it; a fit interrupted on its second attempt is failed.
            attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at       TEXT    NOT NULL,
            started_at       TEXT,
            finished_at      TEXT,
            result           TEXT    CHECK (result IS NULL OR json_valid(result)),
            error            TEXT,
            CHECK ((status = 'succeeded') = (result IS NOT NULL)),
            CHECK ((status IN ('succeeded', 'failed', 'cancelled', 'timed_out')) = (finished_at IS NOT NULL))
        ) STRICT;
        INSERT INTO fit_v4 SELECT id, study_id, status, progress, options, data_version, cancel_requested, attempts,
                                  created_at, started_at, finished_at, result, error FROM fit;
        INSERT INTO sqlite_sequence (name, seq)
            SELECT 'fit_v4', seq FROM sqlite_sequence WHERE name = 'fit'
            AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'fit_v4');
        UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'fit'))
            WHERE name = 'fit_v4' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'fit');
        DROP TABLE fit;
        ALTER TABLE fit_v4 RENAME TO fit;
        CREATE INDEX fit_queue ON fit (status, id);
        CREATE INDEX fit_by_study ON fit (study_id, id);
        CREATE INDEX fit_same_request ON fit (study_id, data_version, options);
        """),

        // One job table for every kind of work fits, observations, back-tests,
        // comparisons, ablations and advice share the queue, its bounds, the timeout, restart
        // recovery and cancel. The table keeps its name `fit` (its fits keep their ids and URLs);
        // `kind` says what a row is, and every existing row is a fit. A comparison reads two studies:
        // `study_b_id` (and the version of it that it saw) cascades like `study_id`, so deleting
        // either study removes it. `auto` marks a refit queued by a study's `auto_fit` option, of
        // which at most one waits per study. ADD COLUMN keeps the rows and the AUTOINCREMENT mark.
        Migration(version: 5, script: """
        ALTER TABLE fit ADD COLUMN kind TEXT NOT NULL DEFAULT 'fit'
            CHECK (kind IN ('fit', 'observation', 'backtest', 'comparison', 'ablation', 'advice'));
        ALTER TABLE fit ADD COLUMN study_b_id INTEGER REFERENCES study(id) ON DELETE CASCADE;
        ALTER TABLE fit ADD COLUMN data_version_b INTEGER CHECK (data_version_b IS NULL OR data_version_b >= 0);
        ALTER TABLE fit ADD COLUMN auto INTEGER NOT NULL DEFAULT 0 CHECK (auto IN (0, 1));
        DROP INDEX fit_same_request;
        CREATE INDEX fit_same_request ON fit (study_id, kind, data_version, options);
        CREATE INDEX fit_by_study_kind ON fit (study_id, kind, id);
        CREATE INDEX fit_by_study_b ON fit (study_b_id, id) WHERE study_b_id IS NOT NULL;
        """),
    ]
}
