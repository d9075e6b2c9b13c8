output "database_name" {
  description = "The orchestra's database on your server."
  value       = stagesub_orchestra_database.quickstart.database_name
}

output "applied_migrations" {
  description = "Migrations applied, in order."
  value       = stagesub_orchestra_database.quickstart.applied_migrations
}

output "database_url" {
  description = "Connection URL for the orchestra's app (password included)."
  value       = stagesub_orchestra_database.quickstart.database_url
  sensitive   = true
}

output "psql_command" {
  description = "Open a psql session on the orchestra's database."
  value       = "psql \"$(terraform output -raw database_url)\" -c 'SELECT * FROM \"Orchestra\"'"
}
