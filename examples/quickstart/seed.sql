-- Idempotent: runs after the migrations on create and whenever this file or a
-- tenant value changes. Tenant values come from current_setting(), never from
-- text spliced into this file.
INSERT INTO "Orchestra" ("id", "subdomain", "name", "contactEmail", "plan")
VALUES (
    1,
    current_setting('stagesub.subdomain'),
    current_setting('stagesub.orchestra_name'),
    NULLIF(current_setting('stagesub.contact_email', true), ''),
    NULLIF(current_setting('stagesub.plan', true), '')
)
ON CONFLICT ("id") DO UPDATE SET
    "subdomain" = EXCLUDED."subdomain",
    "name" = EXCLUDED."name",
    "contactEmail" = EXCLUDED."contactEmail",
    "plan" = EXCLUDED."plan";

-- A few musicians to look at, added once.
INSERT INTO "Musician" ("name", "instrument")
SELECT name, instrument
FROM (VALUES ('Clara Wieck', 'piano'), ('Joseph Joachim', 'violin'), ('Anna Bon', 'flute')) AS m (name, instrument)
WHERE NOT EXISTS (SELECT 1 FROM "Musician");
