-- Issue 11: the State Council's holiday notices entered by administrators at runtime. Each row
-- is one version of a year's arrangement (an amendment adds a version, never rewrites one);
-- the latest version of a year is in force, over the shipped data/calendar/<year>.toml.
-- Promised dates computed on a provisional year (no notice yet) are marked so they can be
-- recomputed and shown as provisional.
CREATE TABLE calendar_notices (
    id           INTEGER PRIMARY KEY,
    year         BIGINT  NOT NULL,
    version      BIGINT  NOT NULL,
    arrangement  TEXT    NOT NULL,   -- JSON, the notice as entered (domain::calendar::Arrangement)
    note         TEXT    NOT NULL,   -- why this version (first entry, amendment by 国办发明电…)
    entered_by   BIGINT  NOT NULL,
    entered_at   BIGINT  NOT NULL,
    UNIQUE (year, version)
);
CREATE TRIGGER calendar_notices_no_update BEFORE UPDATE ON calendar_notices
BEGIN
    SELECT RAISE(ABORT, 'calendar_notices is append-only');
END;
CREATE TRIGGER calendar_notices_no_delete BEFORE DELETE ON calendar_notices
BEGIN
    SELECT RAISE(ABORT, 'calendar_notices is append-only');
END;

-- What entering a version changed: promised dates, bookings moved, days closed (JSON).
CREATE TABLE calendar_reports (
    notice_id    BIGINT  PRIMARY KEY,
    at           BIGINT  NOT NULL,
    report       TEXT    NOT NULL
);

ALTER TABLE applications ADD COLUMN promised_provisional BIGINT NOT NULL DEFAULT 0;
ALTER TABLE application_documents ADD COLUMN promised_provisional BIGINT NOT NULL DEFAULT 0;
CREATE INDEX application_documents_provisional ON application_documents (promised_provisional);
