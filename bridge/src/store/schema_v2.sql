-- Version 2: events kept byte-exact, tenant states as a checked set, owners of tenants.

-- The raw body of every delivery, byte for byte: the truth the worker reads. `payload` becomes a
-- queryable copy (what jsonb refuses, such as \u0000 or an unpaired surrogate, is replaced by U+FFFD;
-- NULL when Postgres refuses the copy anyway). Rows from version 1 get their jsonb text as body.
ALTER TABLE events ADD COLUMN body bytea;
UPDATE events SET body = convert_to(payload::text, 'UTF8');
ALTER TABLE events ALTER COLUMN body SET NOT NULL, ALTER COLUMN payload DROP NOT NULL;

-- A CI failure report as sent (NUL bytes and invalid UTF-8 included); `detail` is its readable text.
ALTER TABLE failure_reports ADD COLUMN body bytea;

-- Tenant states (store::TenantState). Version 1 wrote exactly these four.
ALTER TABLE tenants ADD CONSTRAINT tenants_state_check
    CHECK (state IN ('publishing', 'published', 'ready', 'failed'));

-- The owner, fixed by the first paid provisioning: the Stripe customer, else the normalised email
-- with the checkout session (a guest). Changed only by an admin's link (owner_links).
ALTER TABLE tenants
    ADD COLUMN owner_customer_id text,
    ADD COLUMN owner_email       text,
    ADD COLUMN owner_session_id  text,
    ADD COLUMN owner_event_id    text,
    ADD COLUMN owner_since       bigint;  -- created time of the event that fixed the owner
UPDATE tenants SET owner_customer_id = stripe_customer_id,
                   owner_email       = lower(btrim(contact_email)),
                   owner_session_id  = checkout_session_id,
                   owner_event_id    = source_event_id,
                   owner_since       = values_at;

-- Every link of a guest tenant to a customer: who did it and when.
CREATE TABLE owner_links (
    id                   bigserial PRIMARY KEY,
    subdomain            text NOT NULL REFERENCES tenants (subdomain),
    customer_id          text NOT NULL,
    previous_customer_id text,
    previous_email       text,
    previous_session_id  text,
    linked_by            text NOT NULL,
    linked_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX owner_links_subdomain ON owner_links (subdomain);
