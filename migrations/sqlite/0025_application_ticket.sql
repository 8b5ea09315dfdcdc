-- Issue 18: the window workstation finds the application taken up under the ticket it serves,
-- and acceptance asks to finish that ticket; both look applications up by ticket.
CREATE INDEX applications_ticket ON applications (ticket_id);
