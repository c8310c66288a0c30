-- 008_ids (SQLite): ids that are never handed out twice, a public event id, aggregated audit rows.
-- Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so deleting the newest rows (a purge,
-- removing the last action) let the next row take an id that other rows, a destination's dedup or an
-- operator's notes still meant for the old one. The tables whose ids are referenced are rebuilt with
-- AUTOINCREMENT, keeping every row and id (kanca runs migrations with foreign keys off). Each event gets
-- public_id, "evt_" and 32 random hex digits: the webhook-id of its forwards, unique beyond this store.
-- Rejection audit rows get a count and a minute bucket, so a flood of bad requests adds one row per
-- source, reason and minute instead of one per request.

CREATE TABLE sources_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    options     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (provider, account)
);
INSERT INTO sources_new (id, provider, account, enabled, options, created_at)
    SELECT id, provider, account, enabled, options, created_at FROM sources;
DROP TABLE sources;
ALTER TABLE sources_new RENAME TO sources;

CREATE TABLE secrets_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
INSERT INTO secrets_new (id, source_id, value, created_at, expires_at)
    SELECT id, source_id, value, created_at, expires_at FROM secrets;
DROP TABLE secrets;
ALTER TABLE secrets_new RENAME TO secrets;
CREATE INDEX secrets_source ON secrets(source_id);

CREATE TABLE events_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id        INTEGER NOT NULL REFERENCES sources(id),
    idempotency_key  TEXT    NOT NULL,
    event_type       TEXT,
    body             BLOB    NOT NULL,
    headers          TEXT    NOT NULL,
    received_at      INTEGER NOT NULL,
    verification     TEXT    NOT NULL,
    secret_id        INTEGER,
    status           TEXT    NOT NULL DEFAULT 'received',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_until      INTEGER,
    processed_at     INTEGER,
    response         TEXT,
    decoded          TEXT,
    public_id        TEXT    NOT NULL,
    UNIQUE (source_id, idempotency_key)
);
INSERT INTO events_new (id, source_id, idempotency_key, event_type, body, headers, received_at, verification,
                        secret_id, status, attempts, next_attempt_at, lease_until, processed_at, response, decoded,
                        public_id)
    SELECT id, source_id, idempotency_key, event_type, body, headers, received_at, verification, secret_id, status,
           attempts, next_attempt_at, lease_until, processed_at, response, decoded,
           'evt_' || lower(hex(randomblob(16))) FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_received ON events(received_at);
CREATE INDEX events_status ON events(status, next_attempt_at);
CREATE INDEX events_due ON events(id) WHERE status IN ('received', 'retry', 'processing');
CREATE UNIQUE INDEX events_public_id ON events(public_id);

CREATE TABLE attempts_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    action      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    http_status INTEGER,
    exit_code   INTEGER,
    error       TEXT,
    action_id   INTEGER
);
INSERT INTO attempts_new (id, event_id, action, started_at, ended_at, outcome, http_status, exit_code, error,
                          action_id)
    SELECT id, event_id, action, started_at, ended_at, outcome, http_status, exit_code, error, action_id
    FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_event ON attempts(event_id);

CREATE TABLE audit_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    provider    TEXT,
    account     TEXT,
    source_id   INTEGER,
    event_id    INTEGER,
    status_code INTEGER,
    reason      TEXT,
    remote_addr TEXT,
    count       INTEGER NOT NULL DEFAULT 1,
    bucket      INTEGER
);
INSERT INTO audit_log_new (id, at, action, provider, account, source_id, event_id, status_code, reason, remote_addr)
    SELECT id, at, action, provider, account, source_id, event_id, status_code, reason, remote_addr FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE UNIQUE INDEX audit_log_bucket ON audit_log(bucket, action, provider, account, status_code, reason)
    WHERE bucket IS NOT NULL;

CREATE TABLE actions_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,           -- forward | exec | notify | builtin
    target      TEXT    NOT NULL,           -- URL, script path, channel or handler name
    options     TEXT    NOT NULL DEFAULT '',-- key=value lines (signing secret, headers, timeout)
    enabled     INTEGER NOT NULL DEFAULT 1, -- 0 once a destination answered 410 Gone, or disabled
    created_at  INTEGER NOT NULL
);
INSERT INTO actions_new (id, source_id, position, kind, target, options, enabled, created_at)
    SELECT id, source_id, position, kind, target, options, enabled, created_at FROM actions;
DROP TABLE actions;
ALTER TABLE actions_new RENAME TO actions;
CREATE INDEX actions_source ON actions(source_id, position);
