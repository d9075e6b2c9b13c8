locals {
  # Convention of the examples/gitops layout: tenants/ (the root module) sits
  # beside app/, which holds the migrations and seed every orchestra shares.
  # Tenant files are written by stagesub-bridge and cannot pass these values.
  app_dir = "${path.root}/../app"

  app_migrations_dir = "${local.app_dir}/migrations"
  app_seed_file      = "${local.app_dir}/seed.sql"

  migrations_dir = var.migrations_dir != null ? var.migrations_dir : (
    length(fileset(local.app_migrations_dir, "**/*.sql")) > 0 ? local.app_migrations_dir : null
  )
  seed_sql = var.seed_sql != null ? var.seed_sql : try(file(local.app_seed_file), null)
}

resource "stagesub_orchestra_database" "this" {
  subdomain      = var.subdomain
  orchestra_name = var.orchestra_name
  contact_email  = var.contact_email
  plan           = var.plan
  region         = var.region
  archived       = var.archived

  archive_mode          = var.archive_mode
  backup_retention_days = var.backup_retention_days

  migrations_dir      = local.migrations_dir
  seed_sql            = local.seed_sql
  deletion_protection = var.deletion_protection
  instance_size       = var.instance_size
  allowed_cidrs       = var.allowed_cidrs
  enforce_ssl         = var.enforce_ssl
}
