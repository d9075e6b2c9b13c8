-- Version 4: welcomes held because the tenant directory (DIRECTORY_URL) did not say `ready` when CI
-- called ready. One row per held notice; the admin is told once per row (job admin_welcome_held).

CREATE TABLE held_welcomes (
    id               bigserial PRIMARY KEY,
    subdomain        text NOT NULL,
    directory_status text NOT NULL,       -- what the directory said: missing, provisioning, archived, ...
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Keep equal to store::JobKind (a test enqueues every variant and a stranger).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_known;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_known CHECK (kind IN (
    'event', 'publish', 'welcome', 'admin_event', 'admin_failure',
    'admin_publish_failing', 'admin_publish_parked', 'admin_welcome_held'
));
