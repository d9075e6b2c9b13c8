# The id is the Supabase project ref (backend "supabase")
# or the database name (backend "postgres").
import {
  to = stagesub_orchestra_database.bach_collegium
  id = "abcdefghijklmnopqrst"
}
