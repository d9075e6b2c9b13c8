//! Plan over many orchestras against the Supabase stand-in with its rate limit on (120/min): refresh
//! reads the organization's project list (100 per page) instead of one `GET /v1/projects/{ref}` per
//! tenant, so a plan over 150 tenants costs 2 list calls and at most 8 per-project GETs (the first
//! look-ups), and never meets a 429.
//!
//! The state is generated (what the provider would have written for these projects) because the
//! projects are metadata-only bulk projects of the stand-in; `terraform plan` then refreshes and plans
//! every instance for real. `scripts/bench-plan-scale.sh` runs the ignored 1,000-tenant version and
//! prints the figures recorded in BENCHMARKS.md.

mod common;

use std::time::{Duration, Instant};

use common::Standin;
use serde_json::{Map, Value, json};
use stagesub_acceptance::Terraform;
use supabase_standin::{FaultsPatch, Stats};

/// What one plan over `count` tenants cost.
struct Measured {
    stats: Stats,
    wall: Duration,
}

fn write_state(tf: &Terraform, tenants: &[(String, Value)]) {
    let schema = tf.providers_schema_json();
    let block = &schema["provider_schemas"]["registry.terraform.io/stagesub/stagesub"]["resource_schemas"]
        ["stagesub_orchestra_database"]["block"];
    let mut template = Map::new();
    for name in block["attributes"].as_object().expect("attributes").keys() {
        template.insert(name.clone(), Value::Null);
    }
    for name in block["block_types"].as_object().expect("blocks").keys() {
        template.insert(name.clone(), Value::Null);
    }
    let instances: Vec<Value> = tenants
        .iter()
        .map(|(sub, project)| {
            let project_ref = project["ref"].as_str().expect("ref");
            let user = format!("postgres.{project_ref}");
            let url = format!(
                "postgresql://{user}:bulk-password-0123456789@127.0.0.1:5432/sb_{project_ref}?sslmode=require"
            );
            let mut attributes = template.clone();
            for (key, value) in [
                ("id", json!(project_ref)),
                ("subdomain", json!(sub)),
                ("orchestra_name", json!(format!("Orchestra {sub}"))),
                ("region", project["region"].clone()),
                ("status", project["status"].clone()),
                ("created_at", project["inserted_at"].clone()),
                ("archived", json!(false)),
                ("deletion_protection", json!(true)),
                ("enforce_ssl", json!(true)),
                ("applied_migrations", json!([])),
                ("api_url", json!(format!("https://{project_ref}.supabase.co"))),
                ("database_host", json!("127.0.0.1")),
                ("database_port", json!(5432)),
                ("database_name", json!(format!("sb_{project_ref}"))),
                ("database_user", json!(user)),
                ("database_password", json!("bulk-password-0123456789")),
                ("database_url", json!(url)),
                ("pooler_url", json!(url)),
            ] {
                attributes.insert(key.to_owned(), value);
            }
            json!({
                "index_key": sub,
                "schema_version": 0,
                "attributes": attributes,
                "sensitive_attributes": [],
            })
        })
        .collect();
    let state = json!({
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": 1,
        "lineage": format!("stagesub-scale-{}", common::suffix()),
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "stagesub_orchestra_database",
            "name": "t",
            "provider": "provider[\"registry.terraform.io/stagesub/stagesub\"]",
            "instances": instances,
        }],
        "check_results": null,
    });
    tf.write_file("terraform.tfstate", state.to_string());
}

/// Makes `count` bulk projects, a configuration and a state holding them, then runs one
/// `terraform plan` with the stand-in's rate limit at 120/min and returns what it cost.
fn plan_over(count: usize) -> Measured {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(120),
        ..FaultsPatch::default()
    });
    let tf = common::terraform().with_timeout(Duration::from_secs(1800));
    let prefix = format!("sc{}-", common::suffix());
    standin.bulk_projects(count, &format!("orchestra-{prefix}"));
    let projects = standin.projects();
    assert_eq!(projects.len(), count);
    let tenants: Vec<(String, Value)> = projects
        .into_iter()
        .map(|p| {
            let name = p["name"].as_str().expect("name");
            let sub = name.strip_prefix("orchestra-").expect("orchestra- prefix");
            (sub.to_owned(), p)
        })
        .collect();
    let names: Map<String, Value> = tenants
        .iter()
        .map(|(sub, _)| (sub.clone(), json!(format!("Orchestra {sub}"))))
        .collect();
    tf.write_file("tenants.json", Value::Object(names).to_string());
    tf.write_file(
        "main.tf",
        format!(
            "{}\nlocals {{\n  tenants = jsondecode(file(\"tenants.json\"))\n}}\n\nresource \"stagesub_orchestra_database\" \"t\" {{\n  for_each       = local.tenants\n  subdomain      = each.key\n  orchestra_name = each.value\n}}\n",
            standin.provider_hcl()
        ),
    );
    write_state(&tf, &tenants);

    standin.reset_stats();
    let started = Instant::now();
    let plan = tf.plan(&[]);
    let wall = started.elapsed();
    let stats = standin.stats();
    assert_eq!(
        plan.code,
        Some(0),
        "the plan over {count} tenants is empty\n{plan}"
    );
    // Every instance was refreshed through the provider.
    assert_eq!(
        plan.stdout.matches("Refreshing state... [id=").count(),
        count,
        "{plan}"
    );
    eprintln!(
        "plan over {count} orchestras: wall {wall:.1?}, API calls {} ({stats:?})",
        stats.total
    );
    Measured { stats, wall }
}

fn assert_handful(m: &Measured, count: usize) {
    let lists = m.stats.calls("GET /v1/organizations/{slug}/projects");
    // One page of 100 per call, plus at most a couple of extra look-ups.
    assert!(
        lists <= count.div_ceil(100) as u64 + 2,
        "list calls: {lists} ({:?}); wall {:?}",
        m.stats,
        m.wall
    );
    assert!(lists >= count.div_ceil(100) as u64, "{:?}", m.stats);
    // The first few refreshes ask for their project alone (a one-tenant root costs one call), then
    // the list pays and serves the rest.
    let gets = m.stats.calls("GET /v1/projects/{ref}");
    assert!(gets <= 8, "{:?}", m.stats);
    assert_eq!(m.stats.responses.get("429"), None, "{:?}", m.stats);
    assert_eq!(
        m.stats.total,
        lists + gets,
        "only list calls and the first GETs: {:?}",
        m.stats
    );
}

#[test]
fn a_plan_over_150_orchestras_costs_a_handful_of_list_calls() {
    let m = plan_over(150);
    assert_handful(&m, 150);
    assert!(m.stats.total <= 12, "a handful of calls: {:?}", m.stats);
}

/// The benchmark (`scripts/bench-plan-scale.sh`): 1,000 orchestras, or `STAGESUB_SCALE_TENANTS`.
#[test]
#[ignore = "benchmark: run with scripts/bench-plan-scale.sh"]
fn bench_plan_over_many_orchestras() {
    let count = std::env::var("STAGESUB_SCALE_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let m = plan_over(count);
    assert_handful(&m, count);
    println!(
        "BENCH tenants={count} wall_s={:.1} api_calls={} list_calls={} project_gets={} responses_429={} one_get_per_tenant_at_120_per_min_s={:.0}",
        m.wall.as_secs_f64(),
        m.stats.total,
        m.stats.calls("GET /v1/organizations/{slug}/projects"),
        m.stats.calls("GET /v1/projects/{ref}"),
        m.stats.responses.get("429").copied().unwrap_or(0),
        count as f64 / 2.0
    );
}
