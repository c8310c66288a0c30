-- 002_decoded (PostgreSQL): JSON a provider decoded and verified from the request (Apple's JWS payloads).
ALTER TABLE events ADD COLUMN decoded text;
