-- 006_due_index: the processor's claim looks for the oldest event that still has work to do. Without
-- this index it walked the primary key through every processed event first, so each claim cost
-- more as the table grew (a 100,000-event backlog drained in quadratic time). Only unfinished
-- events are in it, so it stays small however many events are kept.
CREATE INDEX events_due ON events(id) WHERE status IN ('received', 'retry', 'processing');
