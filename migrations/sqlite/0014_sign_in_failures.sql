-- Issue 12 items 7, 8: failed sign-ins are counted per username and client address, whether
-- the username exists or not (the answers cannot tell them apart), and a lock holds only that
-- pair: a stranger elsewhere cannot lock an officer out of their own workstation.
CREATE TABLE sign_in_failures (
    username      TEXT   NOT NULL,
    ip            TEXT   NOT NULL,
    failures      BIGINT NOT NULL,
    first_at      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (username, ip)
);
CREATE INDEX sign_in_failures_first ON sign_in_failures (first_at);
