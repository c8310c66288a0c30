-- 003_actions (PostgreSQL): what happens to a source's events after the answer, in order.
CREATE TABLE actions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint  NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    kind        text    NOT NULL,
    target      text    NOT NULL,
    options     text    NOT NULL DEFAULT '',
    enabled     integer NOT NULL DEFAULT 1,
    created_at  bigint  NOT NULL
);
CREATE INDEX actions_source ON actions(source_id, position);
ALTER TABLE attempts ADD COLUMN action_id bigint;
