-- 008_ids (PostgreSQL): a public event id and aggregated audit rows. (Identity columns already never
-- hand out an id twice.) Each event gets public_id, "evt_" and 32 random hex digits: the webhook-id of
-- its forwards, unique beyond this store. Rejection audit rows get a count and a minute bucket, so a
-- flood of bad requests adds one row per source, reason and minute instead of one per request.
ALTER TABLE events ADD COLUMN public_id text;
UPDATE events SET public_id = 'evt_' || replace(gen_random_uuid()::text, '-', '');
ALTER TABLE events ALTER COLUMN public_id SET NOT NULL;
CREATE UNIQUE INDEX events_public_id ON events(public_id);
ALTER TABLE audit_log ADD COLUMN count integer NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN bucket bigint;
CREATE UNIQUE INDEX audit_log_bucket ON audit_log(bucket, action, provider, account, status_code, reason)
    WHERE bucket IS NOT NULL;
