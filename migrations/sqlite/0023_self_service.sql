-- Issue 14 §4: self-service endorsement (自助签注, R11, exit-entry.md §6). A kiosk session reads
-- a permit's chip and compares the holder's face; a choice makes it an application accepted by
-- the kiosk (no officer), paid once and written to the card once. A hit on the control list
-- stops it with an alert for the duty leader, raised by the kiosk rather than by an officer.

ALTER TABLE applications ADD COLUMN self_service BIGINT NOT NULL DEFAULT 0;

CREATE TABLE self_endorsements (
    id               INTEGER PRIMARY KEY,
    token            TEXT    NOT NULL UNIQUE,
    device_id        INTEGER NOT NULL REFERENCES devices (id),
    site_id          INTEGER NOT NULL REFERENCES sites (id),
    started_at       BIGINT  NOT NULL,
    document_type    TEXT    NOT NULL CHECK (document_type IN ('hk_macao_permit', 'taiwan_permit')),
    id_index         TEXT    NOT NULL,
    -- The chip as read, sealed; emptied when the session ends (kept no longer than the task).
    chip_sealed      BLOB    NOT NULL,
    face_ref         TEXT    NOT NULL,
    face_score       BIGINT  NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('read', 'stopped', 'refused', 'chosen', 'writing', 'written', 'refunded', 'abandoned')),
    option_id        TEXT,
    application_id   BIGINT  UNIQUE REFERENCES applications (id),
    write_attempts   BIGINT  NOT NULL DEFAULT 0,
    write_claimed_at BIGINT,
    write_ref        TEXT,
    finished_at      BIGINT,
    failure          TEXT
);
CREATE INDEX self_endorsements_state ON self_endorsements (state, started_at);

-- A control-list hit at a kiosk has a device, not an officer.
CREATE TABLE watch_alerts_new (
    id               INTEGER PRIMARY KEY,
    application_id   INTEGER NOT NULL REFERENCES applications (id),
    site_id          BIGINT  NOT NULL,
    kind             TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    officer_id       BIGINT,
    device_id        BIGINT,
    handled_at       BIGINT,
    handled_by       BIGINT,
    handled_note     TEXT,
    CHECK (officer_id IS NOT NULL OR device_id IS NOT NULL)
);
INSERT INTO watch_alerts_new (id, application_id, site_id, kind, at, officer_id, handled_at, handled_by, handled_note)
    SELECT id, application_id, site_id, kind, at, officer_id, handled_at, handled_by, handled_note FROM watch_alerts;
DROP TABLE watch_alerts;
ALTER TABLE watch_alerts_new RENAME TO watch_alerts;
CREATE INDEX watch_alerts_open ON watch_alerts (site_id, handled_at);

-- Per device (issue 14 §1, §3): spoken prompts on or off, and whether it serves round the clock
-- (police stations, extension points) rather than in its site's opening hours.
ALTER TABLE devices ADD COLUMN voice_prompts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN always_open BIGINT NOT NULL DEFAULT 0;
