# Quickstart: one orchestra's database on a Postgres server you own, with the
# schema in ./prisma/migrations applied and ./seed.sql run. See README.md.

terraform {
  required_version = ">= 1.0"

  required_providers {
    stagesub = {
      source = "stagesub/stagesub"
    }
  }
}

# The admin URL comes from STAGESUB_POSTGRES_URL, e.g.
# postgres://postgres@127.0.0.1:5432/postgres
provider "stagesub" {
  backend = "postgres"
}

resource "stagesub_orchestra_database" "quickstart" {
  subdomain      = var.subdomain
  orchestra_name = var.orchestra_name
  contact_email  = var.contact_email
  plan           = "free"

  migrations_dir = "${path.module}/prisma/migrations"
  seed_sql       = file("${path.module}/seed.sql")

  # A playground: let `terraform destroy` drop the database.
  deletion_protection = false
}
