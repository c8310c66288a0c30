-- 001_init (SQLite): sources, secrets, events, attempts, audit log, offers.
-- Times are unix seconds (INTEGER) in both backends.
CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    provider    TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    options     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (provider, account)
);

CREATE TABLE secrets (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX secrets_source ON secrets(source_id);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
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
    UNIQUE (source_id, idempotency_key)
);
CREATE INDEX events_received ON events(received_at);
CREATE INDEX events_status ON events(status, next_attempt_at);

CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    action      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    http_status INTEGER,
    exit_code   INTEGER,
    error       TEXT
);
CREATE INDEX attempts_event ON attempts(event_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    provider    TEXT,
    account     TEXT,
    source_id   INTEGER,
    event_id    INTEGER,
    status_code INTEGER,
    reason      TEXT,
    remote_addr TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE offers (
    id               INTEGER PRIMARY KEY,
    source_id        INTEGER NOT NULL REFERENCES sources(id),
    vendor_offer_id  TEXT    NOT NULL,
    title            TEXT,
    price            TEXT,
    currency         TEXT,
    category         TEXT,
    start_location   TEXT,
    end_location     TEXT,
    start_at         TEXT,
    end_at           TEXT,
    available_seats  INTEGER,
    description      TEXT,
    data             TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'active',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_event_id    INTEGER,
    revision         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (source_id, vendor_offer_id)
);
