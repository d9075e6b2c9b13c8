output "project_ref" {
  description = "Id of the orchestra's database: the Supabase project ref, or the database name on the postgres backend."
  value       = stagesub_orchestra_database.this.id
}

output "subdomain" {
  description = "The orchestra's subdomain."
  value       = stagesub_orchestra_database.this.subdomain
}

output "status" {
  description = "Status of the database as last read (e.g. ACTIVE_HEALTHY, INACTIVE)."
  value       = stagesub_orchestra_database.this.status
}

output "database_url" {
  description = "Session-mode connection URL for the orchestra's application, password included."
  value       = stagesub_orchestra_database.this.database_url
  sensitive   = true
}

output "pooler_url" {
  description = "Transaction-mode (pooled) connection URL, password included (Supabase only)."
  value       = stagesub_orchestra_database.this.pooler_url
  sensitive   = true
}

output "api_url" {
  description = "The project's API URL, https://<ref>.supabase.co (Supabase only; null on the postgres backend)."
  value       = stagesub_orchestra_database.this.api_url
}

output "database_host" {
  description = "Host name of the database server."
  value       = stagesub_orchestra_database.this.database_host
}

output "database_port" {
  description = "TCP port of the database server."
  value       = stagesub_orchestra_database.this.database_port
}

output "database_name" {
  description = "Name of the database."
  value       = stagesub_orchestra_database.this.database_name
}

output "database_user" {
  description = "User the application connects as."
  value       = stagesub_orchestra_database.this.database_user
}

output "applied_migrations" {
  description = "Names of the migrations applied to the database, in order."
  value       = stagesub_orchestra_database.this.applied_migrations
}

output "stripe_customer_id" {
  description = "Stripe customer that pays for this orchestra (as passed in)."
  value       = var.stripe_customer_id
}

output "stripe_subscription_id" {
  description = "Stripe subscription of this orchestra (as passed in)."
  value       = var.stripe_subscription_id
}

output "backup_uri" {
  description = "The last archive's backup (archive_mode = \"backup\"); null before the first archive."
  value       = stagesub_orchestra_database.this.backup_uri
}
