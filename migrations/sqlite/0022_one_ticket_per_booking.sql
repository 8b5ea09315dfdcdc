-- One arrival never yields two tickets (issue 14 §2): two check-ins of the same booking at
-- once (two kiosks, a kiosk and the desk) could each see no ticket yet and issue one; the
-- database now keeps one ticket per booking, and the second check-in is refused.
CREATE UNIQUE INDEX tickets_one_per_booking ON tickets (booking_id) WHERE booking_id IS NOT NULL;
