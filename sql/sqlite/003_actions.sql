-- 003_actions (SQLite): what happens to a source's events after the answer, in order.
CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,           -- forward | exec | notify | builtin
    target      TEXT    NOT NULL,           -- URL, script path, channel or handler name
    options     TEXT    NOT NULL DEFAULT '',-- key=value lines (signing secret, headers, timeout)
    enabled     INTEGER NOT NULL DEFAULT 1, -- 0 once a destination answered 410 Gone
    created_at  INTEGER NOT NULL
);
CREATE INDEX actions_source ON actions(source_id, position);
ALTER TABLE attempts ADD COLUMN action_id INTEGER;
