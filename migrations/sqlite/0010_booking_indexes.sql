-- A release morning inserts thousands of bookings a minute; every index on bookings is written
-- with each of them, and an index keyed by a blind index (random) touches a different page for
-- every row. Indexes that only a few rows need are partial, so new bookings skip them:
-- the no-show rule reads no-shows only, the release sweep cancelled places not yet released.
-- (Active bookings of a person are found through bookings_one_active_per_day.)
DROP INDEX bookings_person;
CREATE INDEX bookings_no_shows ON bookings (id_index, no_show_at) WHERE status = 'no_show';
DROP INDEX bookings_release;
CREATE INDEX bookings_release ON bookings (release_at) WHERE released = 0 AND status = 'cancelled' AND release_at IS NOT NULL;
