# Look an orchestra up by its subdomain (or by id, the project ref).
data "stagesub_orchestra_database" "bach_collegium" {
  subdomain = "bach-collegium"
}

output "bach_collegium_status" {
  value = data.stagesub_orchestra_database.bach_collegium.status
}
