# The id is the Supabase project ref (backend "supabase")
# or the database name (backend "postgres").
terraform import stagesub_orchestra_database.bach_collegium abcdefghijklmnopqrst
