-- Foundation: sites and windows, staff and roles, sessions, the append-only audit log, settings.
-- Portable value rules (ARCHITECTURE.md): instants are UTC epoch milliseconds, flags 0/1.

CREATE TABLE sites (
    id              INTEGER PRIMARY KEY,
    code            TEXT    NOT NULL UNIQUE,          -- 4 digits, part of the application number
    kind            TEXT    NOT NULL CHECK (kind IN ('hall', 'extension', 'kiosk_point')),
    name_zh         TEXT    NOT NULL,
    name_en         TEXT    NOT NULL,
    address_zh      TEXT    NOT NULL,
    address_en      TEXT    NOT NULL,
    phone           TEXT    NOT NULL,
    opening_rules   TEXT    NOT NULL,                 -- JSON of domain::opening::OpeningRules
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE windows (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites (id),
    number      INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999),
    kind        TEXT    NOT NULL CHECK (kind IN ('citizen', 'foreigner', 'hmt_resident', 'appointment',
                                                 'pickup', 'express', 'payment', 'green_channel')),
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (site_id, number)
);

CREATE TABLE staff (
    id                    INTEGER PRIMARY KEY,
    username              TEXT    NOT NULL UNIQUE,
    display_name          TEXT    NOT NULL,
    badge_no              TEXT    NOT NULL,
    password_hash         TEXT    NOT NULL,
    must_change_password  INTEGER NOT NULL DEFAULT 1,
    active                INTEGER NOT NULL DEFAULT 1,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    locked_until          INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- A role held at one site; site_id 0 means every site.
CREATE TABLE staff_roles (
    staff_id    INTEGER NOT NULL REFERENCES staff (id),
    role        TEXT    NOT NULL CHECK (role IN ('officer', 'cashier', 'approver', 'producer', 'custodian',
                                                 'guide', 'leader', 'admin')),
    site_id     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (staff_id, role, site_id)
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,                 -- SHA-256 of the cookie value; the value is never stored
    staff_id     INTEGER NOT NULL REFERENCES staff (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL
);
CREATE INDEX sessions_staff ON sessions (staff_id);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     INTEGER,                             -- NULL: a citizen or the system
    actor_name   TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target_kind  TEXT    NOT NULL,
    target_id    TEXT    NOT NULL,
    site_id      INTEGER,
    detail       TEXT    NOT NULL,                    -- JSON
    ip           TEXT    NOT NULL,
    request_id   TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);

-- R15: the audit log is append-only; not even the application can rewrite history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
