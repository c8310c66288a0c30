-- 004_trendyol_orders (SQLite): the built-in Trendyol handler's table: the newest state of each package.
CREATE TABLE trendyol_orders (
    id                  INTEGER PRIMARY KEY,
    source_id           INTEGER NOT NULL REFERENCES sources(id),
    shipment_package_id TEXT    NOT NULL,
    order_number        TEXT,
    status              TEXT,
    last_modified       INTEGER NOT NULL,
    package             TEXT    NOT NULL,
    event_id            INTEGER,
    updated_at          INTEGER NOT NULL,
    UNIQUE (source_id, shipment_package_id)
);
