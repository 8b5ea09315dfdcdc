-- Issue 15 (R13; seed 001 8, 12: 服务监督牌): officers' photos for the supervision card, kept as
-- content-addressed blobs (SHA-256 of the bytes) apart from the staff rows; a staff member's
-- current photo is a reference to one. Replacing a photo keeps the old blob (the audit log
-- names both hashes).
CREATE TABLE photo_blobs (
    sha256        TEXT    NOT NULL PRIMARY KEY,
    content_type  TEXT    NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    bytes         BYTEA   NOT NULL,
    stored_at     BIGINT  NOT NULL
);

CREATE TABLE staff_photos (
    staff_id  BIGINT  NOT NULL PRIMARY KEY REFERENCES staff (id),
    sha256    TEXT    NOT NULL REFERENCES photo_blobs (sha256),
    set_at    BIGINT  NOT NULL,
    set_by    BIGINT  NOT NULL
);
