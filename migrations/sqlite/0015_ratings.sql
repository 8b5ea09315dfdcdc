-- Issue 15 (R13): 好差评 — one rating per service (一次一评, GB/T 39734-2020), append-only like
-- the audit log, and a follow-up case for every bad rating, which the duty leader verifies
-- (回访核实), with the rectification (整改) and the citizen's answer recorded.
CREATE TABLE ratings (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL UNIQUE REFERENCES tickets (id),   -- one rating per service
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    window_id       INTEGER,
    officer_id      INTEGER,
    line_code       TEXT    NOT NULL,
    application_id  INTEGER,
    level           TEXT    NOT NULL CHECK (level IN ('very_satisfied', 'satisfied', 'basic', 'dissatisfied', 'very_dissatisfied')),
    reasons         TEXT    NOT NULL DEFAULT '',   -- reason ids from data/ratings.toml, comma-separated
    comment         TEXT    NOT NULL DEFAULT '',
    channel         TEXT    NOT NULL CHECK (channel IN ('evaluator', 'link')),
    rated_at        INTEGER NOT NULL
);
CREATE INDEX ratings_site_time ON ratings (site_id, rated_at);
CREATE INDEX ratings_officer ON ratings (officer_id, rated_at);
CREATE TRIGGER ratings_no_update BEFORE UPDATE ON ratings
BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;
CREATE TRIGGER ratings_no_delete BEFORE DELETE ON ratings
BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;

-- The follow-up of a bad rating: opened with its deadline (working days), verified and closed
-- by the duty leader. A case is closed once; its history is the audit log.
CREATE TABLE rating_cases (
    id              INTEGER PRIMARY KEY,
    rating_id       INTEGER NOT NULL UNIQUE REFERENCES ratings (id),
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    opened_at       INTEGER NOT NULL,
    due_date        TEXT    NOT NULL,
    outcome         TEXT    CHECK (outcome IN ('justified', 'unjustified')),
    verification    TEXT,
    rectification   TEXT,
    citizen_reply   TEXT,
    closed_at       INTEGER,
    closed_by       INTEGER
);
CREATE INDEX rating_cases_open ON rating_cases (site_id, closed_at, due_date);
