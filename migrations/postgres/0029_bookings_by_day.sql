-- Issue 17 (R2 performance): the one-active-booking-per-person-and-day index led with the
-- person's blind index, which is random, so every booking wrote a different page of an index
-- as large as all bookings ever made: the pages a storm dirties (and the log's frames per
-- booking) grew with the database, and so did the tail latency. Led by the site and the day,
-- a release morning's bookings all land in the part of the index that holds that day, which
-- stays small and in the cache however many days lie behind it. The same look-ups use it:
-- the person's active booking at a site on a day, and the uniqueness itself.
DROP INDEX bookings_one_active_per_day;
CREATE UNIQUE INDEX bookings_one_active_per_day ON bookings (site_id, date, id_index) WHERE status IN ('booked', 'arrived');
