-- 009_due_source: a source with ordered=1 has one event in flight at a time: the claim takes its
-- event only when no earlier event of the same source is unfinished. This index answers that
-- question from the unfinished events of the source alone, however many events are kept.
CREATE INDEX events_due_source ON events(source_id, id) WHERE status IN ('received', 'retry', 'processing');
