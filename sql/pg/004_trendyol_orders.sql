-- 004_trendyol_orders (PostgreSQL): the built-in Trendyol handler's table: the newest state of each package.
CREATE TABLE trendyol_orders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id           bigint  NOT NULL REFERENCES sources(id),
    shipment_package_id text    NOT NULL,
    order_number        text,
    status              text,
    last_modified       bigint  NOT NULL,
    package             text    NOT NULL,
    event_id            bigint,
    updated_at          bigint  NOT NULL,
    UNIQUE (source_id, shipment_package_id)
);
