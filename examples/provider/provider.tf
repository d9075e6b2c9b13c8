terraform {
  required_providers {
    stagesub = {
      source = "stagesub/stagesub"
    }
  }
}

# Supabase backend: one Supabase project per orchestra. Every attribute can
# also come from the environment (SUPABASE_ACCESS_TOKEN,
# SUPABASE_ORGANIZATION_SLUG, ...); keep the token out of the configuration.
# The tenant directory the app reads comes from STAGESUB_DIRECTORY_URL and
# STAGESUB_DIRECTORY_KEYS (both secrets); the app's role may call its lookup.
# Archived orchestras are kept as verified backups in backup_url
# (STAGESUB_BACKUP_URL); S3 credentials come from the standard AWS chain.
provider "stagesub" {
  backend               = "supabase"
  organization_slug     = "my-orchestra-saas"
  default_region        = "eu-central-1"
  directory_reader_role = "orchestra_app"
  backup_url            = "s3://orchestra-backups/stagesub"
}

# Postgres backend: one database per orchestra on a server you own. The admin
# URL is read from STAGESUB_POSTGRES_URL when postgres_url is not set.
provider "stagesub" {
  alias        = "selfhosted"
  backend      = "postgres"
  postgres_url = var.postgres_admin_url
  backup_url   = "file:///var/backups/stagesub"
}

variable "postgres_admin_url" {
  type      = string
  sensitive = true
}
