//! Adopting a database an admin made by hand: the tenant file gets an `import {}` block (Terraform
//! 1.5 or newer) so that the next apply takes the existing Supabase project or Postgres database
//! under management instead of creating one. The seed's manual path thereby ends managed.
//!
//! The block's `to` is the resource inside the tenant's module (`modules/orchestra` declares
//! `resource "stagesub_orchestra_database" "this"`); its `id` is what the provider's import takes
//! (`provider/src/orchestra/import.rs`): the Supabase project ref, or for the postgres backend the
//! database name (`orchestra_<subdomain>` with `-` as `_`). Once imported, the block is a no-op and may
//! stay. Terraform older than 1.5 rejects `import` blocks: delete the block and run
//! `terraform import 'module.orchestra-<subdomain>.stagesub_orchestra_database.this' <id>` instead.

use crate::render::{quote, render_tenant};
use crate::tenant::TenantRecord;

/// The resource inside `modules/orchestra` that an import adopts.
pub const MODULE_RESOURCE: &str = "stagesub_orchestra_database.this";

/// Why an id cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is neither a Supabase project ref (20 lower-case letters, e.g. abcdefghijklmnopqrst) nor a \
     Postgres database name (a lower-case letter or _, then lower-case letters, digits or _, at most 63)"
)]
pub struct BadImportId(pub String);

/// Checks an id the admin typed: a Supabase project ref (`^[a-z]{20}$`) or a database name as the
/// postgres backend makes them (`^[a-z_][a-z0-9_]{0,62}$`). Surrounding blanks are removed; anything
/// else is refused, so the id can never break out of the HCL string or name another kind of thing.
pub fn check_import_id(id: &str) -> Result<String, BadImportId> {
    let id = id.trim();
    let bytes = id.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(BadImportId(id.to_owned()))
    }
}

/// The resource address an import block targets for `subdomain`.
pub fn import_address(subdomain: &str) -> String {
    format!("module.orchestra-{subdomain}.{MODULE_RESOURCE}")
}

/// The `import {}` block for `subdomain` and `id` (both already checked), `terraform fmt` style.
pub fn import_block(subdomain: &str, id: &str) -> String {
    format!(
        "\n# Adopts the database an admin made by hand (Terraform >= 1.5; for older versions delete this\n\
         # block and run: terraform import '{address}' {id})\n\
         import {{\n  to = {address}\n  id = {}\n}}\n",
        quote(id),
        address = import_address(subdomain),
    )
}

/// The tenant file, with the import block when the tenant adopts an existing database.
pub fn render_tenant_file(
    tenant: &TenantRecord,
    module_source: &str,
    import_id: Option<&str>,
) -> String {
    let mut out = render_tenant(tenant, module_source);
    if let Some(id) = import_id {
        out.push_str(&import_block(&tenant.values.subdomain, id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refs_and_database_names_pass() {
        assert_eq!(
            check_import_id(" abcdefghijklmnopqrst ").unwrap(),
            "abcdefghijklmnopqrst"
        );
        assert!(check_import_id("orchestra_berlin_phil").is_ok());
        assert!(check_import_id(&"a".repeat(63)).is_ok());
        for bad in [
            "",
            " ",
            "Orchestra",
            "9abc",
            "a-b",
            "a\"b",
            "a\nb",
            "${x}",
            "abc def",
            "ä",
            &"a".repeat(64),
        ] {
            assert!(check_import_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_block_names_the_module_resource() {
        let block = import_block("berlin-phil", "orchestra_berlin_phil");
        assert!(
            block.contains("to = module.orchestra-berlin-phil.stagesub_orchestra_database.this\n")
        );
        assert!(block.contains("id = \"orchestra_berlin_phil\"\n"));
        assert!(
            include_str!("../../modules/orchestra/main.tf")
                .contains("resource \"stagesub_orchestra_database\" \"this\"")
        );
    }
}
