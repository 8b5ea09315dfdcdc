-- Issue 15 (R13): 每日回访 — each working day, per site, a reproducible random sample of the
-- citizens served on the previous working day (never one who declined contact) becomes a
-- callback list; each call follows a script from data/callbacks.toml, with up to three
-- attempts, every attempt kept (append-only) and every reveal of a phone number audited.

-- Citizens who declined to be contacted (by their keyed ID index; see decision 004).
CREATE TABLE contact_optouts (
    id_index  TEXT    NOT NULL PRIMARY KEY,
    at        INTEGER NOT NULL,
    source    TEXT    NOT NULL CHECK (source IN ('progress', 'callback'))
);

CREATE TABLE callback_lists (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    day          TEXT    NOT NULL,   -- the working day the calls are made
    served_day   TEXT    NOT NULL,   -- the working day whose citizens were sampled
    seed         TEXT    NOT NULL,   -- hex; the sample is drawn again from it
    sample_size  INTEGER NOT NULL,
    population   INTEGER NOT NULL,   -- citizens served that day who may be called
    drawn_at     INTEGER NOT NULL,
    UNIQUE (site_id, day)
);

CREATE TABLE callback_items (
    id              INTEGER PRIMARY KEY,
    list_id         INTEGER NOT NULL REFERENCES callback_lists (id),
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    officer_id      INTEGER,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'reached', 'refused', 'unreachable')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 3),
    answers         TEXT,
    UNIQUE (list_id, application_id)
);

-- A drawn list and its citizens are the record of the sample: never removed.
CREATE TRIGGER callback_lists_kept BEFORE DELETE ON callback_lists
BEGIN
    SELECT RAISE(ABORT, 'callback lists are kept');
END;
CREATE TRIGGER callback_lists_fixed BEFORE UPDATE ON callback_lists
BEGIN
    SELECT RAISE(ABORT, 'callback lists are kept');
END;
CREATE TRIGGER callback_items_kept BEFORE DELETE ON callback_items
BEGIN
    SELECT RAISE(ABORT, 'callback lists are kept');
END;

CREATE TABLE callback_attempts (
    id        INTEGER PRIMARY KEY,
    item_id   INTEGER NOT NULL REFERENCES callback_items (id),
    attempt   INTEGER NOT NULL CHECK (attempt BETWEEN 1 AND 3),
    at        INTEGER NOT NULL,
    staff_id  INTEGER NOT NULL,
    outcome   TEXT    NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'refused')),
    answers   TEXT    NOT NULL DEFAULT '{}',
    note      TEXT    NOT NULL DEFAULT '',
    UNIQUE (item_id, attempt)
);
CREATE TRIGGER callback_attempts_no_update BEFORE UPDATE ON callback_attempts
BEGIN
    SELECT RAISE(ABORT, 'callback attempts are append-only');
END;
CREATE TRIGGER callback_attempts_no_delete BEFORE DELETE ON callback_attempts
BEGIN
    SELECT RAISE(ABORT, 'callback attempts are append-only');
END;
