-- The bridge's own tables. Applied once at start-up (see store/mod.rs); later changes get new files.

-- Every Stripe delivery we accepted, keyed by Stripe's event id: a unique violation is a duplicate.
CREATE TABLE events (
    id           text PRIMARY KEY,
    type         text NOT NULL,
    created      bigint NOT NULL,           -- Stripe's event.created (unix seconds): orders the facts
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    outcome      text                       -- provisioned, held, invalid, waiting_for_payment, ignored, ...
);

-- One row per subdomain: the latest values, and where publishing and the CI callbacks are.
CREATE TABLE tenants (
    subdomain                text PRIMARY KEY,
    stripe_customer_id       text,
    stripe_subscription_id   text,
    orchestra_name           text NOT NULL,
    contact_email            text,
    plan                     text,
    region                   text,
    values_at                bigint NOT NULL,  -- created time of the event that set the values
    archived                 boolean NOT NULL DEFAULT false,
    state                    text NOT NULL,    -- publishing, published, ready, failed
    source_event_id          text,
    checkout_session_id      text,
    published_sha256         text,             -- hash of the tenant file last published
    published_commit         text,
    pull_request_url         text,
    published_at             timestamptz,
    ready_at                 timestamptz,
    welcome_sent_at          timestamptz,
    failed_at                timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_subscription ON tenants (stripe_subscription_id);

-- Latest known status per subscription, and the latest decisive one (archive/restore), by event time.
CREATE TABLE subscriptions (
    id                 text PRIMARY KEY,
    stripe_customer_id text,
    status             text NOT NULL,
    status_at          bigint NOT NULL,
    archived           boolean,
    decided_at         bigint,
    event_id           text NOT NULL
);

-- Reports from CI that provisioning a tenant failed.
CREATE TABLE failure_reports (
    id          bigserial PRIMARY KEY,
    subdomain   text NOT NULL,
    detail      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Work for the worker. A job names only what it is about (event id, subdomain, report id).
CREATE TABLE jobs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    subject       text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    run_at        timestamptz NOT NULL DEFAULT now(),
    last_error    text,
    parked_reason text,
    done_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE done_at IS NULL AND parked_reason IS NULL;
