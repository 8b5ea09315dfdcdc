-- The head of each class in a line's queue (queue::order chooses among them): one index seek
-- per class when a window calls, however many are waiting.
CREATE INDEX tickets_heads ON tickets (site_id, date, line_code, status, class, issued_at, id);
