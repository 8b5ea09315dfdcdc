-- The guardian of an under-16 applicant cannot come and entrusts a companion (委托书): a flag of
-- its own, not a suffix on the relation text.
ALTER TABLE applications ADD COLUMN guardian_entrusted BIGINT NOT NULL DEFAULT 0;
