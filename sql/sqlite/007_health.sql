-- 007_health: one row that /healthz and kancactl doctor update to prove the store takes a write
-- (a read-only file, directory or transaction, a full disk or a held lock fail it; a read does not).
CREATE TABLE kanca_health (
    id INTEGER PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
INSERT INTO kanca_health (id, checked_at) VALUES (1, 0);
