resource "stagesub_orchestra_database" "bach_collegium" {
  subdomain      = "bach-collegium"
  orchestra_name = "Bach Collegium"
  contact_email  = "office@bach-collegium.example"
  plan           = "pro"
  region         = "eu-central-1"

  # Prisma layout (<name>/migration.sql) or Supabase CLI layout
  # (<version>_<name>.sql), detected from the folder's contents.
  migrations_dir = "${path.module}/prisma/migrations"

  # Runs after the migrations, on create and whenever it or a tenant value
  # changes. Tenant values are read with current_setting(), never spliced in.
  seed_sql = <<-SQL
    INSERT INTO orchestra (id, name, subdomain, plan)
    VALUES (1, current_setting('stagesub.orchestra_name'),
            current_setting('stagesub.subdomain'),
            current_setting('stagesub.plan'))
    ON CONFLICT (id) DO UPDATE
      SET name = EXCLUDED.name, plan = EXCLUDED.plan;
  SQL

  allowed_cidrs = ["203.0.113.0/24"]

  # archived = true keeps the data in a verified backup in the provider's
  # backup_url, then deletes the project; archived = false restores it.
  # ("pause" pauses instead: free Supabase organizations only.)
  archived              = false
  archive_mode          = "backup"
  backup_retention_days = 730

  timeouts {
    create = "20m"
  }
}

output "bach_collegium_database_url" {
  value     = stagesub_orchestra_database.bach_collegium.database_url
  sensitive = true
}
