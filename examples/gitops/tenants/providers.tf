# Root module of the infra repository: every other *.tf file in this folder is
# a tenant file written by stagesub-bridge, one orchestra each.

terraform {
  required_version = ">= 1.0"

  required_providers {
    stagesub = {
      source  = "stagesub/stagesub"
      version = ">= 0.1.0"
    }
  }

  # The state holds every orchestra's database_url, password included: keep it
  # in an encrypted, access-controlled backend. Without a backend block
  # Terraform keeps local state (terraform.tfstate), which is fine for trying
  # this out on your machine but is lost with every CI runner: the CI workflow
  # refuses to apply until one of these (or another remote backend) is enabled.
  #
  # backend "s3" {
  #   bucket       = "my-orchestra-saas-tfstate"
  #   key          = "tenants/terraform.tfstate"
  #   region       = "eu-central-1"
  #   encrypt      = true
  #   kms_key_id   = "alias/tfstate"
  #   use_lockfile = true # Terraform >= 1.10; older releases: dynamodb_table = "tfstate-lock"
  # }
  #
  # backend "gcs" {
  #   bucket             = "my-orchestra-saas-tfstate"
  #   prefix             = "tenants"
  #   kms_encryption_key = "projects/my-project/locations/europe-west3/keyRings/tfstate/cryptoKeys/tfstate"
  # }
}

# Every setting comes from the environment, so no secret lives in Git:
#   Supabase (a project per orchestra): SUPABASE_ACCESS_TOKEN,
#     SUPABASE_ORGANIZATION_SLUG, STAGESUB_DEFAULT_REGION and
#     STAGESUB_DATABASE_CA_CERT (the CA from the project's database settings).
#   A Postgres server you own (a database per orchestra):
#     STAGESUB_BACKEND=postgres and STAGESUB_POSTGRES_URL.
provider "stagesub" {}
