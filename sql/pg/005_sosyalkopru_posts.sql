-- 005_sosyalkopru_posts (PostgreSQL): the built-in Sosyal Köprü handler's table: the newest state of each post.
CREATE TABLE sosyalkopru_posts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint  NOT NULL REFERENCES sources(id),
    post_id     text    NOT NULL,
    status      text,
    last_event  text    NOT NULL,
    event_at    bigint  NOT NULL,
    data        text    NOT NULL,
    event_id    bigint,
    updated_at  bigint  NOT NULL,
    UNIQUE (source_id, post_id)
);
