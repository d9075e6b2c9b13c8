-- Version 3: job kinds as a closed set, and the bookkeeping that lets publishing survive a remote
-- that is down for a while (retried for PUBLISH_RETRY_WINDOW, the admin told once when it keeps
-- failing and once when it parks).

ALTER TABLE jobs
    ADD COLUMN failing_since timestamptz,   -- first failed attempt of the current streak
    ADD COLUMN alerted_at    timestamptz,   -- when the admin was told that the job keeps failing
    ADD COLUMN parked_at     timestamptz;   -- when the job was parked (parked_reason says why)

UPDATE jobs SET parked_at = created_at WHERE parked_reason IS NOT NULL;

-- Keep equal to store::JobKind (a test enqueues every variant and a stranger).
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN (
    'event', 'publish', 'welcome', 'admin_event', 'admin_failure',
    'admin_publish_failing', 'admin_publish_parked'
));

CREATE INDEX jobs_parked ON jobs (id) WHERE parked_reason IS NOT NULL;
