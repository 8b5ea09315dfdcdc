-- Issue 15 (R13): complaints and suggestions from every channel, each with its number, what it
-- concerns (officer, window, line, application where known), the citizen's contact sealed,
-- a handler and a deadline in working days, the answer, the citizen's satisfaction with it and
-- the accountability found. Rows are never deleted; every step is an append-only event.
CREATE TABLE complaints (
    id                INTEGER PRIMARY KEY,
    number            TEXT    NOT NULL UNIQUE,
    channel           TEXT    NOT NULL CHECK (channel IN ('hotline_12367', 'hotline_12345', 'box', 'web', 'window')),
    category          TEXT    NOT NULL CHECK (category IN ('attitude', 'efficiency', 'fees', 'materials', 'integrity', 'environment', 'suggestion', 'other')),
    site_id           INTEGER REFERENCES sites (id),
    officer_id        INTEGER,
    window_id         INTEGER,
    line_code         TEXT,
    application_no    TEXT,
    content           TEXT    NOT NULL,
    name_sealed       BLOB    NOT NULL,
    phone_sealed      BLOB    NOT NULL,
    phone_index       TEXT    NOT NULL,
    received_at       INTEGER NOT NULL,
    received_by       INTEGER,
    due_date          TEXT    NOT NULL,
    handler_id        INTEGER,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    answer            TEXT,
    answered_at       INTEGER,
    answered_by       INTEGER,
    justified         INTEGER,
    accountability    TEXT,
    satisfaction      TEXT    CHECK (satisfaction IN ('satisfied', 'dissatisfied')),
    closed_at         INTEGER
);
CREATE INDEX complaints_site_status ON complaints (site_id, status, due_date);
CREATE INDEX complaints_phone ON complaints (phone_index);
CREATE INDEX complaints_officer ON complaints (officer_id, received_at);
CREATE TRIGGER complaints_no_delete BEFORE DELETE ON complaints
BEGIN
    SELECT RAISE(ABORT, 'complaints are never deleted');
END;

CREATE TABLE complaint_events (
    id            INTEGER PRIMARY KEY,
    complaint_id  INTEGER NOT NULL REFERENCES complaints (id),
    at            INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    staff_id      INTEGER,
    detail        TEXT    NOT NULL
);
CREATE INDEX complaint_events_of ON complaint_events (complaint_id, id);
CREATE TRIGGER complaint_events_no_update BEFORE UPDATE ON complaint_events
BEGIN
    SELECT RAISE(ABORT, 'complaint history is append-only');
END;
CREATE TRIGGER complaint_events_no_delete BEFORE DELETE ON complaint_events
BEGIN
    SELECT RAISE(ABORT, 'complaint history is append-only');
END;

-- Per site and day, the complaint numbers handed out (TS + date + site + sequence).
CREATE TABLE complaint_sequences (
    day   TEXT    NOT NULL PRIMARY KEY,
    last  INTEGER NOT NULL
);
