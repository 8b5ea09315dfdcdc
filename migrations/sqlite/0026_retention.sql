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
DROP TRIGGER ratings_no_update;
CREATE TRIGGER ratings_no_update BEFORE UPDATE ON ratings
WHEN NOT (NEW.comment = '' AND NEW.id IS OLD.id AND NEW.ticket_id IS OLD.ticket_id
          AND NEW.site_id IS OLD.site_id AND NEW.window_id IS OLD.window_id
          AND NEW.officer_id IS OLD.officer_id AND NEW.line_code IS OLD.line_code
          AND NEW.application_id IS OLD.application_id AND NEW.level IS OLD.level
          AND NEW.reasons IS OLD.reasons AND NEW.channel IS OLD.channel
          AND NEW.rated_at IS OLD.rated_at)
BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only');
END;

DROP TRIGGER callback_attempts_no_update;
CREATE TRIGGER callback_attempts_no_update BEFORE UPDATE ON callback_attempts
WHEN NOT (NEW.note = '' AND NEW.id IS OLD.id AND NEW.item_id IS OLD.item_id
          AND NEW.attempt IS OLD.attempt AND NEW.at IS OLD.at AND NEW.staff_id IS OLD.staff_id
          AND NEW.outcome IS OLD.outcome AND NEW.answers IS OLD.answers)
BEGIN
    SELECT RAISE(ABORT, 'callback attempts are append-only');
END;
