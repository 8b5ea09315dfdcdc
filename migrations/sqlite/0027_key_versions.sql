-- Issue 17 (R15): key rotation (src/rekey). Every personal-data key version in use, by its
-- check value (never the key): a node holding a different key under a recorded version, or
-- missing one, refuses to start rather than seal what others cannot open.
CREATE TABLE key_versions (
    version   BIGINT  NOT NULL PRIMARY KEY,
    key_check TEXT    NOT NULL,
    added_at  BIGINT  NOT NULL
);

-- How far the background job has sealed each table again under the newest version: the last
-- row id done, so a restart half-way goes on from there; `done_at` once the table is through.
CREATE TABLE key_reseal (
    table_name TEXT    NOT NULL PRIMARY KEY,
    version    BIGINT  NOT NULL,
    last_id    BIGINT  NOT NULL,
    resealed   BIGINT  NOT NULL,
    done_at    BIGINT
);
