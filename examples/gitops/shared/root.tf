# Settings every orchestra's root module shares. Each orchestra is its own root
# module, tenants/<subdomain>/, with its own state; stagesub-bridge writes only
# its main.tf. scripts/tenant-root.sh copies this file into the tenant's root
# (as shared-root.tf, ignored by Git) and runs `terraform init` with the
# tenant's own state key, so these settings live here once, not 10,000 times.

terraform {
  required_version = ">= 1.0"

  required_providers {
    stagesub = {
      source  = "stagesub/stagesub"
      version = ">= 0.1.0"
    }
  }

  # A state holds its orchestra's database_url, password included: keep it in
  # an encrypted, access-controlled backend. Leave out the per-tenant setting
  # (`key`, `prefix`, `schema_name`): scripts/tenant-root.sh passes it at init
  # (-backend-config=key=tenants/<subdomain>.tfstate), so that every orchestra
  # has its own state and its own lock. Without a backend block Terraform keeps
  # local state (tenants/<subdomain>/terraform.tfstate), which is fine for
  # trying this out on your machine but is lost with every CI runner: the CI
  # workflow refuses to apply until one of these (or another remote backend)
  # is enabled.
  #
  # backend "s3" {
  #   bucket       = "my-orchestra-saas-tfstate"
  #   region       = "eu-central-1"
  #   encrypt      = true
  #   kms_key_id   = "alias/tfstate"
  #   use_lockfile = true # Terraform >= 1.10; older releases: dynamodb_table = "tfstate-lock"
  # }
  #
  # backend "gcs" {
  #   bucket             = "my-orchestra-saas-tfstate"
  #   kms_encryption_key = "projects/my-project/locations/europe-west3/keyRings/tfstate/cryptoKeys/tfstate"
  # }
  #
  # backend "pg" {} # conn_str from PG_CONN_STR; a schema per orchestra
}

# Every setting comes from the environment, so no secret lives in Git:
#   Supabase (a project per orchestra): SUPABASE_ACCESS_TOKEN,
#     SUPABASE_ORGANIZATION_SLUG, STAGESUB_DEFAULT_REGION and
#     STAGESUB_DATABASE_CA_CERT (the CA from the project's database settings).
#   A Postgres server you own (a database per orchestra):
#     STAGESUB_BACKEND=postgres and STAGESUB_POSTGRES_URL.
provider "stagesub" {}
