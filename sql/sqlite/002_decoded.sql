-- 002_decoded (SQLite): JSON a provider decoded and verified from the request (Apple's JWS payloads).
ALTER TABLE events ADD COLUMN decoded TEXT;
