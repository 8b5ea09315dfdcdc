-- Express delivery (R10): shipments out to applicants and in from them (two-way express for
-- endorsements), the documents in each, every tracking event, every courier webhook received.

CREATE TABLE shipments (
    id               INTEGER PRIMARY KEY,
    direction        TEXT    NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    application_id   INTEGER NOT NULL REFERENCES applications (id),
    site_id          BIGINT  NOT NULL,
    courier          TEXT    NOT NULL,
    waybill_no       TEXT    NOT NULL UNIQUE,
    status           TEXT    NOT NULL CHECK (status IN ('created', 'picked_up', 'in_transit', 'delivered', 'returned')),
    recipient_sealed BLOB   NOT NULL,
    created_at       BIGINT  NOT NULL,
    created_by       BIGINT,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX shipments_application ON shipments (application_id);

CREATE TABLE shipment_items (
    shipment_id  INTEGER NOT NULL REFERENCES shipments (id),
    document_id  INTEGER NOT NULL REFERENCES application_documents (id),
    PRIMARY KEY (shipment_id, document_id)
);

CREATE TABLE shipment_events (
    id           INTEGER PRIMARY KEY,
    shipment_id  INTEGER NOT NULL REFERENCES shipments (id),
    event_id     TEXT    NOT NULL UNIQUE,
    status       TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    at           BIGINT  NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id);

CREATE TABLE courier_webhooks (
    id           INTEGER PRIMARY KEY,
    received_at  BIGINT  NOT NULL,
    outcome      TEXT    NOT NULL,
    body         TEXT    NOT NULL
);
