-- Version 7: reminders about provisions pending past PROVISION_SLA, and cheap counts for /metrics.

-- One row per reminder window of a pending tenant: window 0 starts when the tenant passes
-- PROVISION_SLA, window n REMINDER_EVERY * n later. The row is inserted in the transaction that
-- sends the email, so however many replicas run, a window is claimed (and mailed) once.
CREATE TABLE provision_reminders (
    subdomain    text    NOT NULL,
    window_index integer NOT NULL,
    age_seconds  bigint  NOT NULL,          -- how long the tenant had been pending when reminded
    state        text    NOT NULL,          -- its state then (publishing, published, failed)
    sent_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subdomain, window_index)
);

-- One row per UTC day on which the DIGEST_AT summary was sent (tenants = how many it listed; 0:
-- nothing was past the SLA and no email went out).
CREATE TABLE reminder_digests (
    day     date    PRIMARY KEY,
    tenants integer NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
);

-- /metrics counts open jobs and tenants per state at every scrape: keep those reads off the
-- table's history.
CREATE INDEX jobs_open ON jobs (kind) WHERE done_at IS NULL;
CREATE INDEX tenants_state ON tenants (state, created_at);
