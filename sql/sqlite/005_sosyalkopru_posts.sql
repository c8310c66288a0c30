-- 005_sosyalkopru_posts (SQLite): the built-in Sosyal Köprü handler's table: the newest state of each post.
CREATE TABLE sosyalkopru_posts (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources(id),
    post_id     TEXT    NOT NULL,
    status      TEXT,
    last_event  TEXT    NOT NULL,
    event_at    INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    event_id    INTEGER,
    updated_at  INTEGER NOT NULL,
    UNIQUE (source_id, post_id)
);
