-- Issue 15 (R13; seed 003 一: "把差错率纳入窗口服务的目标管理考核, 一月一评, 无差错竞赛"): the
-- error rate per accepting officer counts data errors found at pickup (data_errors), documents
-- not approved because of an acceptance mistake, and refunds for an officer's mistake. The
-- approver and the cashier say which of theirs are such; the flags are set once, with the step.
ALTER TABLE application_documents ADD COLUMN acceptance_error BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN officer_error BIGINT NOT NULL DEFAULT 0;
