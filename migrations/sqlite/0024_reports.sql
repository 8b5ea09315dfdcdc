-- Issue 16 (R14): per-day aggregates the reports read, so a year of a busy hall renders fast.
-- A day is rolled up from its raw rows (tickets, applications, bookings, payments, ratings,
-- complaints, documents) in one transaction; rolling it again gives the same rows. Counts are
-- per site, dimension (site, line, officer, window, item) and key; durations are histograms
-- of whole minutes, so a median or 90th percentile over any range is exact to the minute.
CREATE TABLE report_days (
    site_id    BIGINT  NOT NULL,
    date       TEXT    NOT NULL,
    rolled_at  BIGINT  NOT NULL,
    PRIMARY KEY (site_id, date)
);

CREATE TABLE report_counts (
    site_id  BIGINT  NOT NULL,
    dim      TEXT    NOT NULL,
    date     TEXT    NOT NULL,
    dim_key  TEXT    NOT NULL,
    metric   TEXT    NOT NULL,
    value    BIGINT  NOT NULL,
    PRIMARY KEY (site_id, dim, date, dim_key, metric)
);

-- One histogram a row, as text: `minute:count` pairs in ascending minutes separated by `;`
-- (`0:12;1:30;4:2`). A year of per-officer histograms is then some 30,000 rows, not a million.
CREATE TABLE report_minutes (
    site_id  BIGINT  NOT NULL,
    dim      TEXT    NOT NULL,
    date     TEXT    NOT NULL,
    dim_key  TEXT    NOT NULL,
    measure  TEXT    NOT NULL,
    counts   TEXT    NOT NULL,
    PRIMARY KEY (site_id, dim, date, dim_key, measure)
);

-- A day's acceptances, refusals and promised documents, found without scanning the forms.
CREATE INDEX applications_accepted ON applications (site_id, accepted_at);
CREATE INDEX applications_refused ON applications (site_id, refused_at);
CREATE INDEX application_documents_promised ON application_documents (promised_date);
CREATE INDEX data_errors_site_time ON data_errors (site_id, reported_at);
CREATE INDEX complaints_site_time ON complaints (site_id, received_at);
