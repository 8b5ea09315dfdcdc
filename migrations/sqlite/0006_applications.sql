-- One form, acceptance and payment (R4, R5, R6, R8): the application with its documents and
-- endorsements, the acceptance record (materials, captures, checks, time-limit class,
-- delivery, fee fixed on the acceptance date), one-time notices, the restricted-exit and
-- dual-registration list, payments with their receipts, provider notifications and refunds.

-- Per-site daily sequences of numbered series (application numbers, receipts, refunds).
CREATE TABLE daily_counters (
    site_id  INTEGER NOT NULL REFERENCES sites (id),
    date     TEXT    NOT NULL,
    series   TEXT    NOT NULL,
    next     BIGINT  NOT NULL,
    PRIMARY KEY (site_id, date, series)
);

CREATE TABLE applications (
    id                     INTEGER PRIMARY KEY,
    application_no         TEXT    NOT NULL UNIQUE,
    token                  TEXT    NOT NULL UNIQUE,       -- opens the printed form and receipt (QR)
    site_id                INTEGER NOT NULL REFERENCES sites (id),
    form_date              TEXT    NOT NULL,
    channel                TEXT    NOT NULL CHECK (channel IN ('kiosk', 'mobile', 'window')),
    status                 TEXT    NOT NULL CHECK (status IN ('submitted', 'in_acceptance', 'awaiting_materials', 'accepted', 'refused')),
    id_index               TEXT    NOT NULL,
    id_sealed              BLOB    NOT NULL,
    name_sealed            BLOB    NOT NULL,
    phone_sealed           BLOB    NOT NULL,
    address_sealed         BLOB    NOT NULL,
    sex                    TEXT    NOT NULL,
    birth_date             TEXT    NOT NULL,
    ethnicity              TEXT    NOT NULL,
    id_source              TEXT    NOT NULL CHECK (id_source IN ('card_reader', 'typed')),
    state_personnel        BIGINT  NOT NULL DEFAULT 0,
    unit_consent           BIGINT  NOT NULL DEFAULT 0,
    work_unit              TEXT,
    guardian_name_sealed   BLOB,
    guardian_id_sealed     BLOB,
    guardian_relation      TEXT,
    lang                   TEXT    NOT NULL,
    created_at             BIGINT  NOT NULL,
    ticket_id              BIGINT,
    window_id              BIGINT,
    officer_id             BIGINT,
    acceptance_started_at  BIGINT,
    materials_checked      TEXT,
    photo_ref              TEXT,
    photo_quality          BIGINT,
    fingerprint_ref        TEXT,
    fingerprint_quality    BIGINT,
    fingerprint_exempt     TEXT,
    face_verified_at       BIGINT,
    checks_at              BIGINT,
    checks_clear           BIGINT,
    time_limit_class       TEXT,
    emergency_reason       TEXT,
    emergency_proof        TEXT,
    delivery               TEXT CHECK (delivery IN ('pickup', 'express')),
    pickup_site_id         BIGINT,
    express_sealed         BLOB,
    fee_fen                BIGINT,
    fee_date               TEXT,
    promised_date          TEXT,
    accepted_at            BIGINT,
    refused_at             BIGINT,
    refusal                TEXT,
    version                BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX applications_person ON applications (id_index);
CREATE INDEX applications_site_day ON applications (site_id, form_date);

CREATE TABLE application_documents (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    position        BIGINT  NOT NULL,
    document_type   TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    item_id         TEXT    NOT NULL,
    old_number_sealed BLOB,
    old_state       TEXT,
    annotations     BIGINT  NOT NULL DEFAULT 0,
    fee_fen         BIGINT,
    promised_date   TEXT,
    status          TEXT    NOT NULL,
    UNIQUE (application_id, document_type)
);

CREATE TABLE application_endorsements (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES application_documents (id),
    option_id    TEXT    NOT NULL,
    fee_fen      BIGINT
);

-- The timeline of an application: form, every acceptance step, payment (R5 item 6: acceptance
-- start and end, so "16 minutes from arrival" can be measured per applicant).
CREATE TABLE application_events (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    at              BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    staff_id        BIGINT,
    detail          TEXT    NOT NULL
);
CREATE INDEX application_events_app ON application_events (application_id);

-- 一次性告知: every missing item at once.
CREATE TABLE one_time_notices (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    issued_at       BIGINT  NOT NULL,
    officer_id      BIGINT  NOT NULL,
    missing         TEXT    NOT NULL
);

-- 法定不准出境人员 and 双重户籍 (demo list; a real deployment puts its source behind the adapter).
CREATE TABLE watch_list (
    id           INTEGER PRIMARY KEY,
    id_index     TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('restricted_exit', 'dual_registration')),
    note         TEXT    NOT NULL,
    imported_at  BIGINT  NOT NULL,
    imported_by  BIGINT  NOT NULL,
    UNIQUE (id_index, kind)
);

CREATE TABLE watch_alerts (
    id               INTEGER PRIMARY KEY,
    application_id   INTEGER NOT NULL REFERENCES applications (id),
    site_id          BIGINT  NOT NULL,
    kind             TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    officer_id       BIGINT  NOT NULL,
    handled_at       BIGINT,
    handled_by       BIGINT,
    handled_note     TEXT
);
CREATE INDEX watch_alerts_open ON watch_alerts (site_id, handled_at);

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    method          TEXT    NOT NULL CHECK (method IN ('cash', 'card', 'alipay', 'wechat')),
    channel         TEXT    NOT NULL CHECK (channel IN ('window', 'kiosk')),
    amount_fen      BIGINT  NOT NULL,
    order_no        TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    receipt_no      TEXT UNIQUE,
    provider_txn    TEXT,
    pos_ref         TEXT,
    created_at      BIGINT  NOT NULL,
    created_by      BIGINT,
    paid_at         BIGINT,
    business_date   TEXT,
    refunded_fen    BIGINT  NOT NULL DEFAULT 0
);
-- R6: an application is paid once, whichever window, kiosk or notification gets there first.
CREATE UNIQUE INDEX payments_one_paid ON payments (application_id) WHERE status = 'paid';
CREATE INDEX payments_day ON payments (site_id, business_date);

CREATE TABLE refunds (
    id            INTEGER PRIMARY KEY,
    refund_no     TEXT    NOT NULL UNIQUE,
    payment_id    INTEGER NOT NULL REFERENCES payments (id),
    site_id       BIGINT  NOT NULL,
    method        TEXT    NOT NULL,
    amount_fen    BIGINT  NOT NULL CHECK (amount_fen > 0),
    reason        TEXT    NOT NULL,
    staff_id      BIGINT,
    at            BIGINT  NOT NULL,
    business_date TEXT    NOT NULL
);
CREATE INDEX refunds_day ON refunds (site_id, business_date);

-- Every notification a provider sent, whatever became of it (applied, duplicate, forged…).
CREATE TABLE payment_notifications (
    id           INTEGER PRIMARY KEY,
    provider     TEXT    NOT NULL,
    order_no     TEXT    NOT NULL,
    notify_id    TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,
    outcome      TEXT    NOT NULL,
    body         TEXT    NOT NULL
);
CREATE INDEX payment_notifications_order ON payment_notifications (order_no);

-- The payment simulator's own books: what the "provider" believes happened, so that
-- reconciliation compares two independent records as it would with a real statement.
CREATE TABLE sim_provider_orders (
    order_no      TEXT    PRIMARY KEY,
    method        TEXT    NOT NULL,
    amount_fen    BIGINT  NOT NULL,
    status        TEXT    NOT NULL,
    txn_id        TEXT,
    paid_at       BIGINT,
    refunded_fen  BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sim_provider_refunds (
    refund_ref  TEXT    PRIMARY KEY,
    order_no    TEXT    NOT NULL,
    amount_fen  BIGINT  NOT NULL,
    at          BIGINT  NOT NULL
);
