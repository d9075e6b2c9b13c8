# An orchestra's verified backups in the provider's backup_url, oldest first.
data "stagesub_orchestra_backups" "bach_collegium" {
  subdomain = "bach-collegium"
}

output "bach_collegium_latest_backup" {
  value = data.stagesub_orchestra_backups.bach_collegium.latest_uri
}
