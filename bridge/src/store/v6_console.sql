-- Version 6: the operator console (/console): sessions, login attempts, the audit of every action,
-- webhook deliveries (also those rejected), and the facts a tenant's timeline shows that were not kept
-- before (each commit, each email). Tenants may name an existing database to adopt (import {}).

-- Server-side console sessions; the cookie holds a random token, the table only its SHA-256.
CREATE TABLE console_sessions (
    token_sha256 text PRIMARY KEY,
    username     text NOT NULL,
    auth         text NOT NULL CHECK (auth IN ('password', 'proxy')),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Password login attempts, for the per user and address rate limit.
CREATE TABLE console_login_attempts (
    id         bigserial PRIMARY KEY,
    username   text NOT NULL,
    ip         text NOT NULL,
    succeeded  boolean NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_login_attempts_key ON console_login_attempts (username, ip, at);

-- Who did what, when, to what: every console login and action.
CREATE TABLE console_audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text,
    details text NOT NULL DEFAULT '',
    outcome text NOT NULL
);
CREATE INDEX console_audit_target ON console_audit (target, at);

-- Every webhook delivery and every event fetched from Stripe's API: recorded (new, verified),
-- duplicate (verified, already known), rejected (with the reason; type as claimed, if any).
CREATE TABLE webhook_deliveries (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL CHECK (source IN ('webhook', 'api')),
    event_id    text,
    type        text,
    outcome     text NOT NULL CHECK (outcome IN ('recorded', 'duplicate', 'rejected')),
    reason      text
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

-- Each commit of a tenant file (tenants.published_commit keeps only the last).
CREATE TABLE tenant_commits (
    id               bigserial PRIMARY KEY,
    subdomain        text NOT NULL,
    commit_sha       text NOT NULL,
    pull_request_url text,
    file_sha256      text NOT NULL,
    published_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_commits_subdomain ON tenant_commits (subdomain, published_at);

-- Each email sent about a tenant (welcome, admin notices).
CREATE TABLE sent_emails (
    id        bigserial PRIMARY KEY,
    subdomain text NOT NULL,
    kind      text NOT NULL,
    recipient text NOT NULL,
    subject   text NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sent_emails_subdomain ON sent_emails (subdomain, sent_at);

-- A database an admin made by hand (Supabase project ref or database name): the tenant file gets an
-- import {} block so Terraform adopts it.
ALTER TABLE tenants
    ADD COLUMN import_id   text,
    ADD COLUMN import_by   text,
    ADD COLUMN import_at   timestamptz;
