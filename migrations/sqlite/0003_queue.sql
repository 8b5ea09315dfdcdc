-- Ticketing and calling (R3): tickets with their whole history, per-day sequences per line,
-- the state of each window.

CREATE TABLE ticket_counters (
    site_id    INTEGER NOT NULL REFERENCES sites (id),
    date       TEXT    NOT NULL,
    line_code  TEXT    NOT NULL,
    next       INTEGER NOT NULL,
    PRIMARY KEY (site_id, date, line_code)
);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    token            TEXT    NOT NULL UNIQUE,          -- opens the citizen's status page (QR)
    site_id          INTEGER NOT NULL REFERENCES sites (id),
    date             TEXT    NOT NULL,
    line_code        TEXT    NOT NULL,
    number           TEXT    NOT NULL,                 -- A012
    class            TEXT    NOT NULL CHECK (class IN ('green', 'love', 'appointment', 'normal')),
    class_reason     TEXT,
    booking_id       INTEGER,
    status           TEXT    NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show')),
    issued_at        INTEGER NOT NULL,
    issued_by        INTEGER,
    channel          TEXT    NOT NULL,                 -- kiosk, guide, appointment
    window_id        INTEGER,
    officer_id       INTEGER,
    called_at        INTEGER,
    call_count       INTEGER NOT NULL DEFAULT 0,
    started_at       INTEGER,
    finished_at      INTEGER,
    transfers        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, date, number)
);
CREATE INDEX tickets_queue ON tickets (site_id, date, status, line_code);

CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    window_id   INTEGER,
    officer_id  INTEGER,
    detail      TEXT    NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id);

CREATE TABLE window_states (
    window_id     INTEGER PRIMARY KEY REFERENCES windows (id),
    status        TEXT    NOT NULL CHECK (status IN ('open', 'paused', 'closed')),
    officer_id    INTEGER,
    lines         TEXT    NOT NULL,                    -- ",first_issue,renewal," in priority order
    pause_reason  TEXT,
    updated_at    INTEGER NOT NULL
);
