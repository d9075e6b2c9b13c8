locals {
  # Convention of the examples/gitops layout: app/, which holds the migrations
  # and seed every orchestra shares, sits at the top of the infra repository.
  # Each orchestra's root module is tenants/<subdomain>/, two levels below it;
  # the older single root module tenants/ is one level below. Tenant files are
  # written by stagesub-bridge and cannot pass these values.
  app_dir_flat = "${path.root}/../app"
  flat_has_app = length(fileset(local.app_dir_flat, "migrations/**/*.sql")) + length(fileset(local.app_dir_flat, "seed.sql")) > 0
  app_dir      = local.flat_has_app ? local.app_dir_flat : "${path.root}/../../app"

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
