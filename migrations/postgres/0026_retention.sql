-- Issue 17 (R15): retention. After each kind of record's period (docs/RETENTION.md) the daily
-- purge (src/retention) erases the personal data and keeps what the statistics count. A row
-- erased says when (`erased_at`); its sealed values are empty, its blind indexes
-- `erased:<id>` (unique, and no HMAC ever equals it), its free text empty.
ALTER TABLE bookings ADD COLUMN erased_at BIGINT;
ALTER TABLE applications ADD COLUMN erased_at BIGINT;
ALTER TABLE complaints ADD COLUMN erased_at BIGINT;
ALTER TABLE outbox ADD COLUMN erased_at BIGINT;
ALTER TABLE self_endorsements ADD COLUMN erased_at BIGINT;

-- What is still to erase, by the time it can be: erased rows leave these indexes, so each
-- night reads the rows of one period, not the whole history. Both keys grow with time, so
-- new rows are written at the index's end.
CREATE INDEX bookings_to_erase ON bookings (ends_at) WHERE erased_at IS NULL;
CREATE INDEX applications_to_erase ON applications (created_at) WHERE erased_at IS NULL;
CREATE INDEX outbox_to_erase ON outbox (created_at) WHERE erased_at IS NULL;
CREATE INDEX ratings_to_erase ON ratings (rated_at) WHERE comment <> '';

-- Whether an application is still an open case is asked of every table that hangs on it.
CREATE INDEX payments_application ON payments (application_id);
CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE INDEX pickups_application ON pickups (application_id);
CREATE INDEX watch_alerts_application ON watch_alerts (application_id);
CREATE INDEX ratings_application ON ratings (application_id) WHERE application_id IS NOT NULL;
CREATE INDEX complaints_application ON complaints (application_no) WHERE application_no IS NOT NULL;

-- Ratings and callback attempts stay append-only, with one exception: the purge may empty the
-- citizen's comment (a call's note), changing nothing else.
CREATE OR REPLACE FUNCTION ratings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.comment = '' AND (to_jsonb(NEW) - 'comment') = (to_jsonb(OLD) - 'comment') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'ratings are append-only';
END;
$$;

CREATE OR REPLACE FUNCTION callback_attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.note = '' AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'callback attempts are append-only';
END;
$$;
