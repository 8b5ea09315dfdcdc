-- Issue 12 item 5: a booking's code is locked for online lookup, cancel and reschedule after a
-- few wrong ID numbers (a code with a region and a birth date leaves ≤ 1,000 candidates).
ALTER TABLE bookings ADD COLUMN wrong_id_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN locked_at BIGINT;
