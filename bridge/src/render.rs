//! Tenant files: one `module "orchestra-<subdomain>"` block in HCL, formatted exactly as `terraform fmt`
//! would (equals signs aligned), with every customer value escaped so that it reads back unchanged.

use crate::tenant::TenantRecord;

/// Module source written when `TENANT_MODULE_SOURCE` is not set: relative to the tenant's root module
/// `<TENANTS_DIR>/<subdomain>/`, so `modules/` sits beside `TENANTS_DIR`.
pub const DEFAULT_MODULE_SOURCE: &str = "../../modules/orchestra";

/// Path of a tenant's file inside the infra repository: `<tenants_dir>/<subdomain>/main.tf`. Each
/// orchestra is its own Terraform root module (and state); the settings every root shares are not the
/// bridge's to write (see `examples/gitops`). Every path the bridge writes comes from here.
pub fn tenant_path(tenants_dir: &str, subdomain: &str) -> String {
    format!("{}main.tf", tenant_root(tenants_dir, subdomain))
}

/// The tenant's root module folder, with a trailing `/`: `<tenants_dir>/<subdomain>/`.
pub fn tenant_root(tenants_dir: &str, subdomain: &str) -> String {
    let dir = tenants_dir.trim_end_matches('/');
    if dir.is_empty() {
        format!("{subdomain}/")
    } else {
        format!("{dir}/{subdomain}/")
    }
}

/// Where the tenant's file was before each orchestra had its own root module:
/// `<tenants_dir>/<subdomain>.tf`, one file of a single root. A publish deletes it in the same commit
/// that writes [`tenant_path`], so that a tenant is never defined twice.
pub fn legacy_tenant_path(tenants_dir: &str, subdomain: &str) -> String {
    let dir = tenants_dir.trim_end_matches('/');
    if dir.is_empty() {
        format!("{subdomain}.tf")
    } else {
        format!("{dir}/{subdomain}.tf")
    }
}

/// Checks `TENANT_MODULE_SOURCE`: a relative source is read from the tenant's root module folder
/// `<TENANTS_DIR>/<subdomain>/`, so it must climb out of it and out of `TENANTS_DIR` (at least two
/// `..`): the single-root layout's `../modules/orchestra` would point inside `TENANTS_DIR`.
pub fn check_module_source(source: &str) -> Result<(), String> {
    if source.trim().is_empty() {
        return Err("is empty; leave it unset for ../../modules/orchestra".into());
    }
    if source.starts_with("./") || source.starts_with("../") {
        let climbs = source
            .split('/')
            .take_while(|p| *p == ".." || *p == ".")
            .filter(|p| *p == "..")
            .count();
        if climbs < 2 {
            return Err(format!(
                "{source:?} is relative to the tenant's own folder <TENANTS_DIR>/<subdomain>/ (one root module per tenant) and would point inside TENANTS_DIR; use ../../modules/orchestra (the default)"
            ));
        }
    }
    Ok(())
}

/// Renders the tenant file. The subdomain must already be validated (it becomes part of a block label).
pub fn render_tenant(tenant: &TenantRecord, module_source: &str) -> String {
    let v = &tenant.values;
    let mut out = String::new();
    out.push_str(
        "# Managed by stagesub-bridge: changes come from Stripe, edits here are overwritten.\n",
    );
    let mut origin = String::new();
    if let Some(event) = &tenant.source_event_id {
        origin.push_str(&format!("Stripe event {}", comment_safe(event)));
    }
    if let Some(session) = &tenant.checkout_session_id {
        if !origin.is_empty() {
            origin.push_str(", ");
        }
        origin.push_str(&format!("checkout session {}", comment_safe(session)));
    }
    if !origin.is_empty() {
        out.push_str(&format!("# {origin}\n"));
    }
    let attributes: [(&str, String); 9] = [
        ("source", quote(module_source)),
        ("subdomain", quote(&v.subdomain)),
        ("orchestra_name", quote(&v.orchestra_name)),
        ("contact_email", optional(v.contact_email.as_deref())),
        ("plan", optional(v.plan.as_deref())),
        ("region", optional(v.region.as_deref())),
        ("archived", tenant.archived.to_string()),
        (
            "stripe_customer_id",
            optional(tenant.stripe_customer_id.as_deref()),
        ),
        (
            "stripe_subscription_id",
            optional(tenant.stripe_subscription_id.as_deref()),
        ),
    ];
    // terraform fmt aligns the `=` of consecutive single-line attributes to the longest name.
    let width = attributes
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    out.push_str(&format!(
        "module {} {{\n",
        quote(&format!("orchestra-{}", v.subdomain))
    ));
    for (name, value) in &attributes {
        out.push_str(&format!("  {name:<width$} = {value}\n"));
    }
    out.push_str("}\n");
    out
}

fn optional(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_owned(), quote)
}

/// An HCL quoted string literal whose value is exactly `s`: escapes quotes, backslashes, control
/// characters, and template introducers (`${` -> `$${`, `%{` -> `%%{`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Keeps a comment on one line and free of anything but Stripe-id characters.
fn comment_safe(s: &str) -> String {
    s.chars()
        .take(255)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("${x} %{y} $$ %"), r#""$${x} %%{y} $$ %""#);
        assert_eq!(quote("a\nb\u{7}"), r#""a\nb\u0007""#);
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment_safe("evt_1\n# injected"), "evt_1???injected");
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn every_path_comes_from_the_tenant_root() {
        assert_eq!(tenant_path("tenants", "bach"), "tenants/bach/main.tf");
        assert_eq!(
            tenant_path("infra/tenants/", "bach"),
            "infra/tenants/bach/main.tf"
        );
        assert_eq!(tenant_path("", "bach"), "bach/main.tf");
        assert_eq!(tenant_root("tenants", "bach"), "tenants/bach/");
        assert_eq!(legacy_tenant_path("tenants/", "bach"), "tenants/bach.tf");
        assert_eq!(legacy_tenant_path("", "bach"), "bach.tf");
    }

    #[test]
    fn module_sources_must_leave_the_tenants_folder() {
        assert!(check_module_source(DEFAULT_MODULE_SOURCE).is_ok());
        assert!(check_module_source("../../../shared/modules/orchestra").is_ok());
        assert!(check_module_source("git::https://example.org/m.git//orchestra?ref=v1").is_ok());
        assert!(check_module_source("app.terraform.io/acme/orchestra/stagesub").is_ok());
        let old = check_module_source("../modules/orchestra").unwrap_err();
        assert!(old.contains("../../modules/orchestra"), "{old}");
        assert!(check_module_source("./modules/orchestra").is_err());
        assert!(check_module_source(" ").is_err());
    }
}
