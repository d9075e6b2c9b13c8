//! Provider RPCs through the real process: messages beyond tonic's 4 MiB default, write-only
//! attributes, and `StopProvider` cancelling an in-flight `ApplyResourceChange`.

mod support;

use std::time::Duration;

use stagesub_plugin::Value;
use stagesub_plugin::value::Number;
use stagesub_tfplugin6::tfplugin6 as pb;
use support::{Plugin, dv, plain_channel, provider_client, thing, thing_type, undv};

async fn client(p: &mut Plugin) -> pb::provider_client::ProviderClient<tonic::transport::Channel> {
    provider_client(
        plain_channel(p.handshake().socket())
            .await
            .expect("connect"),
    )
}

#[tokio::test]
async fn messages_over_4_mib_travel_both_ways() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    let payload = "x".repeat(6 << 20); // 6 MiB, over tonic's 4 MiB default in each direction
    let planned = thing(
        &ty,
        &[
            ("name", "big".into()),
            ("payload", payload.clone().into()),
            ("id", Value::Unknown),
            ("size", Value::Unknown),
        ],
    );
    let config = thing(
        &ty,
        &[("name", "big".into()), ("payload", payload.clone().into())],
    );
    let resp = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "tiny_thing".into(),
            prior_state: Some(dv(&Value::Null, &ty)),
            planned_state: Some(dv(&planned, &ty)),
            config: Some(dv(&config, &ty)),
            ..Default::default()
        })
        .await
        .expect("a 6 MiB ApplyResourceChange is accepted")
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let state = undv(resp.new_state, &ty);
    assert_eq!(state.str_attr("payload").map(str::len), Some(6 << 20));
    assert_eq!(state.attr("size"), &Value::Number(Number::Int(6 << 20)));
    assert_eq!(state.str_attr("id"), Some("thing-big"));
}

#[tokio::test]
async fn write_only_values_need_the_client_capability_and_never_come_back() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    let config = thing(
        &ty,
        &[("name", "wo".into()), ("secret_wo", "hunter2".into())],
    );

    // Terraform before 1.11 sends no client capabilities: a clear error at the attribute.
    let old = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tiny_thing".into(),
            config: Some(dv(&config, &ty)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(old.diagnostics.len(), 1, "{:?}", old.diagnostics);
    let d = &old.diagnostics[0];
    assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
    assert!(d.summary.contains("Terraform 1.11"), "{d:?}");
    let step = &d.attribute.as_ref().expect("attribute path").steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "secret_wo".into()
        ))
    );

    let new = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tiny_thing".into(),
            config: Some(dv(&config, &ty)),
            client_capabilities: Some(pb::ClientCapabilities {
                deferral_allowed: false,
                write_only_attributes_allowed: true,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(new.diagnostics.is_empty(), "{:?}", new.diagnostics);

    // Plan and apply: the write-only value never appears in what the provider returns.
    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "tiny_thing".into(),
            prior_state: Some(dv(&Value::Null, &ty)),
            proposed_new_state: Some(dv(&config, &ty)),
            config: Some(dv(&config, &ty)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let planned = undv(plan.planned_state, &ty);
    assert_eq!(planned.attr("secret_wo"), &Value::Null);
    assert_eq!(
        planned.attr("id"),
        &Value::Unknown,
        "computed id unknown on create"
    );
    let applied = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "tiny_thing".into(),
            prior_state: Some(dv(&Value::Null, &ty)),
            planned_state: Some(dv(&planned, &ty)),
            config: Some(dv(&config, &ty)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let state = undv(applied.new_state, &ty);
    assert_eq!(state.attr("secret_wo"), &Value::Null);
    assert_eq!(state.str_attr("id"), Some("thing-wo"));
}

#[tokio::test]
async fn missing_required_and_unknown_types_are_diagnostics() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tiny_thing".into(),
            config: Some(dv(&thing(&ty, &[("id", "set-by-user".into())]), &ty)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let summaries: Vec<_> = r.diagnostics.iter().map(|d| d.summary.as_str()).collect();
    assert!(
        summaries.contains(&"Missing required argument"),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&"Value for unconfigurable attribute"),
        "{summaries:?}"
    );

    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tiny_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics[0].summary, "Unknown resource type");

    // Bytes that are not msgpack: an InvalidArgument status, not a crash.
    let e = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tiny_thing".into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0xa3, b'a'], // a 3-byte string cut short
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_an_in_flight_apply() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    let dir = tempfile::tempdir().unwrap();

    type Client = pb::provider_client::ProviderClient<tonic::transport::Channel>;
    let start_waiting_apply = |c: &Client, marker: &std::path::Path| {
        let planned = thing(
            &ty,
            &[
                ("name", "slow".into()),
                ("wait_for_stop", true.into()),
                ("marker_path", marker.display().to_string().into()),
                ("id", Value::Unknown),
                ("size", Value::Unknown),
            ],
        );
        let req = pb::apply_resource_change::Request {
            type_name: "tiny_thing".into(),
            prior_state: Some(dv(&Value::Null, &ty)),
            planned_state: Some(dv(&planned, &ty)),
            config: Some(dv(&planned, &ty)),
            ..Default::default()
        };
        let mut c = c.clone();
        tokio::spawn(async move { c.apply_resource_change(req).await })
    };
    let wait_for = |marker: &std::path::Path| {
        let marker = marker.to_path_buf();
        async move {
            for _ in 0..1000 {
                if marker.exists() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("create never started (no {})", marker.display());
        }
    };

    for round in 0..2 {
        let marker = dir.path().join(format!("started-{round}"));
        let apply = start_waiting_apply(&c, &marker);
        wait_for(&marker).await;
        // Still running: a token from an earlier StopProvider must not cancel later operations.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !apply.is_finished(),
            "round {round}: create ended before StopProvider"
        );

        let stop = c
            .stop_provider(pb::stop_provider::Request {})
            .await
            .expect("StopProvider")
            .into_inner();
        assert_eq!(stop.error, "");
        let resp = tokio::time::timeout(Duration::from_secs(10), apply)
            .await
            .expect("StopProvider did not cancel the in-flight create")
            .unwrap()
            .expect("ApplyResourceChange answers")
            .into_inner();
        assert_eq!(resp.diagnostics.len(), 1, "{:?}", resp.diagnostics);
        assert_eq!(resp.diagnostics[0].summary, "Create cancelled");
        assert_eq!(
            undv(resp.new_state, &ty),
            Value::Null,
            "nothing was created"
        );
    }
}

#[tokio::test]
async fn upgrade_resource_state_reads_json_from_an_older_schema() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    // Written by an older schema: `size` missing, `colour` since removed, and a write-only value that
    // must never come back (Terraform never stores one; the provider still must not echo it).
    let raw = br#"{"name":"old","id":"thing-old","colour":"red","secret_wo":"leak","payload":"p"}"#;
    let resp = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "tiny_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: raw.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let state = undv(resp.upgraded_state, &ty);
    assert_eq!(
        state,
        thing(
            &ty,
            &[
                ("name", "old".into()),
                ("id", "thing-old".into()),
                ("payload", "p".into())
            ]
        )
    );

    // State from a newer schema version: a diagnostic that says to upgrade.
    let newer = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "tiny_thing".into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: raw.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(newer.diagnostics.len(), 1);
    assert_eq!(newer.diagnostics[0].summary, "State from a newer provider");
    assert!(newer.diagnostics[0].detail.contains("Upgrade the provider"));
}

#[tokio::test]
async fn import_read_and_metadata() {
    let mut p = Plugin::start(&[]);
    let mut c = client(&mut p).await;
    let ty = thing_type(&mut c).await;
    let meta = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let types: Vec<_> = meta
        .resources
        .iter()
        .map(|r| r.type_name.as_str())
        .collect();
    assert_eq!(types, ["tiny_thing"]);
    assert!(
        meta.server_capabilities
            .unwrap()
            .get_provider_schema_optional
    );

    let imported = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "tiny_thing".into(),
            id: "thing-cello".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    assert_eq!(imported.imported_resources.len(), 1);
    let r = imported.imported_resources.into_iter().next().unwrap();
    assert_eq!(r.type_name, "tiny_thing");
    let state = undv(r.state, &ty);
    assert_eq!(state.str_attr("name"), Some("cello"));
    assert_eq!(state.str_attr("id"), Some("thing-cello"));

    let read = c
        .read_resource(pb::read_resource::Request {
            type_name: "tiny_thing".into(),
            current_state: Some(dv(&state, &ty)),
            private: r.private,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undv(read.new_state, &ty), state);
}
