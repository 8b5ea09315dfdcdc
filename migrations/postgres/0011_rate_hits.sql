-- R2: booking attempts per client address and per ID number (blind index), per clock hour,
-- shared by every node on PostgreSQL (a single SQLite node counts in memory; the table is
-- here too so both engines keep one schema). Rows older than two hours are deleted.
CREATE TABLE rate_hits (
    key          TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_hits_window ON rate_hits (window_start);
