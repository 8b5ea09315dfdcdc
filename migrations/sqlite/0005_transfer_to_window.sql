-- R3: a ticket can be transferred to a named window; only that window calls it then.
ALTER TABLE tickets ADD COLUMN target_window INTEGER;
