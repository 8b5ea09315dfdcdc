-- Appointments (R2): slot settings per site and line, generated slots with per-pool quotas,
-- bookings with personal data sealed (ciphertext + blind index), no-show block lifts, the
-- waiting list, the notification outbox and the SMS simulator's log.

CREATE TABLE slot_settings (
    site_id               INTEGER NOT NULL REFERENCES sites (id),
    line_code             TEXT    NOT NULL,
    slot_minutes          INTEGER NOT NULL,
    quota_online          INTEGER NOT NULL,
    quota_phone           INTEGER NOT NULL,
    quota_onsite          INTEGER NOT NULL,
    open_days_ahead       INTEGER NOT NULL,
    open_at_minute        INTEGER NOT NULL,
    close_minutes_before  INTEGER NOT NULL,
    release_delay_seconds INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (site_id, line_code)
);

CREATE TABLE capacity_changes (
    id            INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL REFERENCES sites (id),
    line_code     TEXT    NOT NULL,
    from_date     TEXT    NOT NULL,
    to_date       TEXT    NOT NULL,
    extra_online  INTEGER NOT NULL,
    extra_phone   INTEGER NOT NULL,
    extra_onsite  INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE day_closures (
    site_id     INTEGER NOT NULL REFERENCES sites (id),
    date        TEXT    NOT NULL,
    reason_zh   TEXT    NOT NULL,
    reason_en   TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (site_id, date)
);

CREATE TABLE slots (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    line_code       TEXT    NOT NULL,
    date            TEXT    NOT NULL,
    start_minute    INTEGER NOT NULL,
    end_minute      INTEGER NOT NULL,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    quota_online    INTEGER NOT NULL,
    quota_phone     INTEGER NOT NULL,
    quota_onsite    INTEGER NOT NULL,
    booked_online   INTEGER NOT NULL DEFAULT 0,
    booked_phone    INTEGER NOT NULL DEFAULT 0,
    booked_onsite   INTEGER NOT NULL DEFAULT 0,
    closed          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, line_code, date, start_minute),
    CHECK (booked_online <= quota_online AND booked_phone <= quota_phone AND booked_onsite <= quota_onsite)
);

CREATE TABLE bookings (
    id               INTEGER PRIMARY KEY,
    code             TEXT    NOT NULL UNIQUE,
    slot_id          INTEGER NOT NULL REFERENCES slots (id),
    site_id          INTEGER NOT NULL REFERENCES sites (id),
    line_code        TEXT    NOT NULL,
    date             TEXT    NOT NULL,
    start_minute     INTEGER NOT NULL,
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('web', 'mobile', 'phone', 'kiosk', 'onsite')),
    pool             TEXT    NOT NULL CHECK (pool IN ('online', 'phone', 'onsite')),
    id_index         TEXT    NOT NULL,
    id_sealed        BLOB    NOT NULL,
    name_sealed      BLOB    NOT NULL,
    phone_sealed     BLOB    NOT NULL,
    lang             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('booked', 'arrived', 'cancelled', 'no_show')),
    cancel_reason    TEXT,
    released         INTEGER NOT NULL DEFAULT 0,
    release_at       INTEGER,
    rescheduled_from INTEGER,
    idempotency_key  TEXT UNIQUE,
    created_by       INTEGER,
    created_at       INTEGER NOT NULL,
    cancelled_at     INTEGER,
    arrived_at       INTEGER,
    no_show_at       INTEGER
);
-- R2: one active booking per ID number per site and day, enforced by the database.
CREATE UNIQUE INDEX bookings_one_active_per_day ON bookings (id_index, site_id, date) WHERE status IN ('booked', 'arrived');
CREATE INDEX bookings_slot ON bookings (slot_id);
CREATE INDEX bookings_site_date ON bookings (site_id, date);
CREATE INDEX bookings_person ON bookings (id_index, status);
CREATE INDEX bookings_due_no_show ON bookings (status, ends_at);
CREATE INDEX bookings_release ON bookings (released, release_at);

CREATE TABLE no_show_lifts (
    id         INTEGER PRIMARY KEY,
    id_index   TEXT    NOT NULL,
    lifted_at  INTEGER NOT NULL,
    lifted_by  INTEGER NOT NULL,
    reason     TEXT    NOT NULL
);
CREATE INDEX no_show_lifts_person ON no_show_lifts (id_index, lifted_at);

CREATE TABLE waitlist (
    id            INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL REFERENCES sites (id),
    line_code     TEXT    NOT NULL,
    date          TEXT    NOT NULL,
    id_index      TEXT    NOT NULL,
    phone_sealed  BLOB    NOT NULL,
    lang          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    notified_at   INTEGER,
    UNIQUE (site_id, line_code, date, id_index)
);

CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    ref            TEXT    NOT NULL,
    phone_sealed   BLOB    NOT NULL,
    body           TEXT    NOT NULL,
    due_at         INTEGER NOT NULL,
    claimed_until  INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    sent_at        INTEGER,
    cancelled_at   INTEGER,
    last_error     TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, cancelled_at, due_at);
CREATE INDEX outbox_ref ON outbox (ref);

CREATE TABLE sms_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    phone_masked  TEXT    NOT NULL,
    body          TEXT    NOT NULL
);
