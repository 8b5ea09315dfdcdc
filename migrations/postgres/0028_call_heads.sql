-- Issue 17 (R15): each site's latest call (a `ticket_events` id), kept under the site's call
-- lock with every call. A call is published with the one before it, so a display that showed
-- that one shows the new one at once; reading the previous call back from the events instead
-- cost a scan of the day's events under the lock (src/queue/store.rs, `call_event`).
CREATE TABLE call_heads (
    site_id   BIGINT NOT NULL PRIMARY KEY REFERENCES sites (id),
    last_call BIGINT NOT NULL
);

INSERT INTO call_heads (site_id, last_call)
SELECT t.site_id, MAX(e.id) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
WHERE e.kind IN ('called', 'recalled')
GROUP BY t.site_id;
