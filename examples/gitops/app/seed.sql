-- Seed for every orchestra's database. terraform-provider-stagesub runs it after
-- the migrations, on create and whenever this file or a tenant value changes, so
-- it must be idempotent. The tenant's values arrive as settings, never spliced
-- into this text: current_setting('stagesub.subdomain'), 'stagesub.orchestra_name',
-- 'stagesub.contact_email', 'stagesub.plan' (an empty or missing setting is null).

INSERT INTO "Orchestra" ("id", "subdomain", "name", "contactEmail", "plan", "updatedAt")
VALUES (
    1,
    current_setting('stagesub.subdomain'),
    current_setting('stagesub.orchestra_name'),
    NULLIF(current_setting('stagesub.contact_email', true), ''),
    NULLIF(current_setting('stagesub.plan', true), ''),
    CURRENT_TIMESTAMP
)
ON CONFLICT ("id") DO UPDATE SET
    "subdomain" = EXCLUDED."subdomain",
    "name" = EXCLUDED."name",
    "contactEmail" = EXCLUDED."contactEmail",
    "plan" = EXCLUDED."plan",
    "updatedAt" = EXCLUDED."updatedAt";

-- A first concert so that a new orchestra's calendar is not empty; only once.
INSERT INTO "Concert" ("title", "venue", "startsAt")
SELECT 'Season opening', NULL, date_trunc('day', CURRENT_TIMESTAMP) + INTERVAL '30 days 19 hours'
WHERE NOT EXISTS (SELECT 1 FROM "Concert");
