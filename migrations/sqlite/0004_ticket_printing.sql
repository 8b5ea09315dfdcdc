-- R3: a ticket whose print failed is not counted as issued (not queued, not called) until it
-- is reprinted. Tickets are printed unless a kiosk reports otherwise.
ALTER TABLE tickets ADD COLUMN printed INTEGER NOT NULL DEFAULT 1;
