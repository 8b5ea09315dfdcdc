-- From acceptance to the citizen's hands (R7, R9, R10): each document's stage and every step
-- it took, production batches, cabinet slots and custody moves, pickups, reported data errors.

ALTER TABLE application_documents ADD COLUMN stage_at BIGINT;
ALTER TABLE application_documents ADD COLUMN label TEXT;
ALTER TABLE application_documents ADD COLUMN batch_id BIGINT;
ALTER TABLE application_documents ADD COLUMN reviewer_id BIGINT;
ALTER TABLE application_documents ADD COLUMN rejection TEXT;
ALTER TABLE application_documents ADD COLUMN issued_number_sealed BLOB;
ALTER TABLE application_documents ADD COLUMN custody_site_id BIGINT;
CREATE UNIQUE INDEX application_documents_label ON application_documents (label);
CREATE INDEX application_documents_stage ON application_documents (status, promised_date);

CREATE TABLE document_steps (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES application_documents (id),
    from_stage   TEXT    NOT NULL,
    to_stage     TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    staff_id     BIGINT,
    detail       TEXT    NOT NULL
);
CREATE INDEX document_steps_document ON document_steps (document_id);

CREATE TABLE production_batches (
    id           INTEGER PRIMARY KEY,
    created_at   BIGINT  NOT NULL,
    created_by   BIGINT  NOT NULL,
    produced_at  BIGINT,
    produced_by  BIGINT
);

-- A slot holds at most one document and a document sits in at most one slot.
CREATE TABLE cabinet_slots (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    cabinet      TEXT    NOT NULL,
    slot         TEXT    NOT NULL,
    document_id  BIGINT UNIQUE,
    since        BIGINT,
    UNIQUE (site_id, cabinet, slot)
);

CREATE TABLE custody_moves (
    id           INTEGER PRIMARY KEY,
    document_id  BIGINT  NOT NULL,
    from_slot    BIGINT,
    to_slot      BIGINT,
    at           BIGINT  NOT NULL,
    staff_id     BIGINT,
    reason       TEXT    NOT NULL
);
CREATE INDEX custody_moves_document ON custody_moves (document_id);

CREATE TABLE pickups (
    id                   INTEGER PRIMARY KEY,
    application_id       INTEGER NOT NULL REFERENCES applications (id),
    site_id              BIGINT  NOT NULL,
    at                   BIGINT  NOT NULL,
    officer_id           BIGINT  NOT NULL,
    recipient            TEXT    NOT NULL CHECK (recipient IN ('applicant', 'proxy', 'guardian')),
    recipient_id_index   TEXT    NOT NULL,
    recipient_sealed     BLOB   NOT NULL,
    verification_ref     TEXT    NOT NULL,
    verification_score   BIGINT  NOT NULL,
    photo_ref            TEXT    NOT NULL,
    signature_ref        TEXT    NOT NULL
);

CREATE TABLE data_errors (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES application_documents (id),
    site_id      BIGINT  NOT NULL,
    reported_at  BIGINT  NOT NULL,
    officer_id   BIGINT  NOT NULL,
    note         TEXT    NOT NULL,
    resolved_at  BIGINT
);
