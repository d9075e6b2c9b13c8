-- Version 5: the grace period between a subscription's end and the archive commit (ARCHIVE_GRACE).
-- One row per grace period; at most one is open (`scheduled`) per tenant. The archive itself is a
-- job (`archive`, subject: subdomain) due at `due_at`, claimed FOR UPDATE SKIP LOCKED like every job,
-- so it survives restarts and one replica makes it; the row's state change makes it once.

CREATE TABLE archive_schedules (
    id             bigserial PRIMARY KEY,
    subdomain      text NOT NULL,
    subscription   text,                  -- the subscription whose end started the grace period
    event_id       text NOT NULL,         -- the Stripe event that started it
    ended_at       bigint NOT NULL,       -- created time (unix seconds) of the subscription's end
    due_at         timestamptz NOT NULL,  -- ended_at + ARCHIVE_GRACE: when the archive commit is made
    state          text NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'archived')),
    closed_by      text,                  -- what cancelled it (an event id), or the archive commit
    closed_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX archive_schedules_open ON archive_schedules (subdomain) WHERE state = 'scheduled';

-- A tenant archived by the grace period, and a customer coming back after it: `returning_since` is set
-- by the restore and cleared when the welcome-back email goes out (after CI's `ready`).
ALTER TABLE tenants
    ADD COLUMN archived_at          timestamptz,
    ADD COLUMN returning_since      timestamptz,
    ADD COLUMN welcome_back_sent_at timestamptz;

-- Keep equal to store::JobKind (a test enqueues every variant and a stranger).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_known;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN (
    'event', 'publish', 'welcome', 'admin_event', 'admin_failure',
    'admin_publish_failing', 'admin_publish_parked', 'admin_welcome_held',
    'archive', 'grace_notice', 'archive_notice', 'welcome_back'
));
