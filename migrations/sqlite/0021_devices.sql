-- Issue 14 §3: registered devices. Each kiosk, window evaluator, ID-reader station and printer
-- is a device of a site, registered by an administrator and enrolled once with a one-time code
-- that yields its credential (only hashes are stored); revocable, rotated; it reports a
-- heartbeat and its faults. Every change is a device event (append-only).
CREATE TABLE devices (
    id                INTEGER PRIMARY KEY,
    site_id           INTEGER NOT NULL REFERENCES sites (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('kiosk', 'evaluator', 'id_station', 'printer')),
    name              TEXT    NOT NULL,
    enrol_code_hash   TEXT    UNIQUE,
    enrol_expires_at  INTEGER,
    credential_hash   TEXT,
    enrolled_at       INTEGER,
    revoked_at        INTEGER,
    last_seen_at      INTEGER,
    faults            TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    created_by        INTEGER NOT NULL
);
CREATE INDEX devices_site ON devices (site_id);

CREATE TABLE device_events (
    id         INTEGER PRIMARY KEY,
    device_id  INTEGER NOT NULL REFERENCES devices (id),
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX device_events_of ON device_events (device_id, id);
CREATE TRIGGER device_events_no_update BEFORE UPDATE ON device_events
BEGIN
    SELECT RAISE(ABORT, 'device events are append-only');
END;
CREATE TRIGGER device_events_no_delete BEFORE DELETE ON device_events
BEGIN
    SELECT RAISE(ABORT, 'device events are append-only');
END;
