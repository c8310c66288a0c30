-- 001_init (PostgreSQL): sources, secrets, events, attempts, audit log, offers.
-- Times are unix seconds (bigint) in both backends.
CREATE TABLE sources (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider    text    NOT NULL,
    account     text    NOT NULL,
    enabled     integer NOT NULL DEFAULT 1,
    options     text    NOT NULL DEFAULT '',
    created_at  bigint  NOT NULL,
    UNIQUE (provider, account)
);

CREATE TABLE secrets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint  NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    value       text    NOT NULL,
    created_at  bigint  NOT NULL,
    expires_at  bigint
);
CREATE INDEX secrets_source ON secrets(source_id);

CREATE TABLE events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id        bigint  NOT NULL REFERENCES sources(id),
    idempotency_key  text    NOT NULL,
    event_type       text,
    body             bytea   NOT NULL,
    headers          text    NOT NULL,
    received_at      bigint  NOT NULL,
    verification     text    NOT NULL,
    secret_id        bigint,
    status           text    NOT NULL DEFAULT 'received',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  bigint,
    lease_until      bigint,
    processed_at     bigint,
    response         text,
    UNIQUE (source_id, idempotency_key)
);
CREATE INDEX events_received ON events(received_at);
CREATE INDEX events_status ON events(status, next_attempt_at);

CREATE TABLE attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    bigint  NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    action      text    NOT NULL,
    started_at  bigint  NOT NULL,
    ended_at    bigint,
    outcome     text,
    http_status integer,
    exit_code   integer,
    error       text
);
CREATE INDEX attempts_event ON attempts(event_id);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          bigint  NOT NULL,
    action      text    NOT NULL,
    provider    text,
    account     text,
    source_id   bigint,
    event_id    bigint,
    status_code integer,
    reason      text,
    remote_addr text
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE offers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id        bigint  NOT NULL REFERENCES sources(id),
    vendor_offer_id  text    NOT NULL,
    title            text,
    price            text,
    currency         text,
    category         text,
    start_location   text,
    end_location     text,
    start_at         text,
    end_at           text,
    available_seats  bigint,
    description      text,
    data             text    NOT NULL,
    status           text    NOT NULL DEFAULT 'active',
    created_at       bigint  NOT NULL,
    updated_at       bigint  NOT NULL,
    last_event_id    bigint,
    revision         integer NOT NULL DEFAULT 1,
    UNIQUE (source_id, vendor_offer_id)
);
