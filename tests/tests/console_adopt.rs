//! The console's "mark as manually provisioned", end to end with real Terraform and PostgreSQL: an
//! admin makes a tenant's database by hand, the bridge writes the tenant file with an `import {}` block
//! (`stagesub-bridge render --import-id`, the same renderer the console's publish uses), and the next
//! apply adopts the database instead of creating one; afterwards the plan is empty. With Terraform 1.0
//! the block is refused, and the documented fallback (delete it, `terraform import`) adopts it.

mod common;

use std::process::Command;

use common::{PgTenants, orchestra, postgres_provider};
use stagesub_acceptance::{Terraform, binary_path, postgres, repo_root};

/// The admin's database, made outside the tenants' Terraform state.
fn make_by_hand(subdomain: &str) {
    let scratch = common::terraform();
    scratch.write_file(
        "main.tf",
        format!(
            "{}\n{}",
            postgres_provider(),
            orchestra("hand", subdomain, "Adopted Hall", "")
        ),
    );
    scratch.apply_ok();
    scratch.state_rm_ok("stagesub_orchestra_database.hand");
    assert!(postgres::database_exists(&PgTenants::database(subdomain)));
}

/// The tenants root: provider settings, `modules/orchestra`, and the bridge's tenant file.
fn tenants_root(tf: &Terraform, subdomain: &str, import_id: Option<&str>) -> String {
    tf.write_file("main.tf", postgres_provider());
    let module = repo_root().join("modules/orchestra");
    for entry in std::fs::read_dir(&module).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            tf.write_file(
                format!(
                    "modules/orchestra/{}",
                    path.file_name().unwrap().to_string_lossy()
                ),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    let mut render = Command::new(binary_path("stagesub-bridge"));
    render.args([
        "render",
        "--subdomain",
        subdomain,
        "--orchestra-name",
        "Adopted Hall",
        "--module-source",
        "./modules/orchestra",
    ]);
    if let Some(id) = import_id {
        render.args(["--import-id", id]);
    }
    let out = render.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = String::from_utf8(out.stdout).unwrap();
    tf.write_file(format!("{subdomain}.tf"), &file);
    file
}

fn address(subdomain: &str) -> String {
    format!("module.orchestra-{subdomain}.stagesub_orchestra_database.this")
}

#[test]
fn an_import_block_adopts_a_database_made_by_hand() {
    let subdomain = format!("adopt-{}", common::suffix());
    let _cleanup = PgTenants::new(&[&subdomain]);
    make_by_hand(&subdomain);
    let db = PgTenants::database(&subdomain);
    let tf = common::terraform();
    let file = tenants_root(&tf, &subdomain, Some(&db));
    assert!(
        file.contains(&format!("to = {}", address(&subdomain))),
        "{file}"
    );
    tf.get_ok();
    let apply = tf.apply_ok();
    assert!(apply.contains("1 imported, 0 added"), "{apply}");
    assert!(postgres::database_exists(&db));
    assert_eq!(
        common::state_str(&tf, &address(&subdomain), "id").as_deref(),
        Some(db.as_str())
    );
    tf.assert_plan_empty();
}

#[test]
fn terraform_1_0_refuses_the_block_and_the_documented_fallback_adopts() {
    let subdomain = format!("adopt-old-{}", common::suffix());
    let _cleanup = PgTenants::new(&[&subdomain]);
    make_by_hand(&subdomain);
    let db = PgTenants::database(&subdomain);
    let tf = common::terraform_1_0();
    let with_block = tenants_root(&tf, &subdomain, Some(&db));
    tf.get_ok();
    let refused = tf.plan(&[]);
    assert!(!refused.success(), "{refused}");
    assert!(refused.to_string().contains("import"), "{refused}");
    // Fallback: the file without the block, and `terraform import`.
    let without = tenants_root(&tf, &subdomain, None);
    assert!(with_block.starts_with(&without));
    tf.get_ok();
    tf.import_ok(&address(&subdomain), &db);
    let apply = tf.apply_ok();
    assert!(apply.contains("0 added"), "{apply}");
    tf.assert_plan_empty();
}
