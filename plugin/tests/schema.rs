//! Schemas as Terraform sees them (`to_proto`) and the configuration checks Terraform core leaves to
//! the provider (`validate_config`, write-only nulling).

use stagesub_plugin::diag::{AttributePath, Diagnostics, PathStep, Severity};
use stagesub_plugin::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use stagesub_plugin::{Type, Value, timeouts};
use stagesub_tfplugin6::tfplugin6 as pb;

fn schema() -> Schema {
    Schema {
        version: 2,
        block: Block::new("An orchestra's **database**.")
            .attribute(
                Attribute::string("subdomain")
                    .required()
                    .description("DNS label.")
                    .validate(|v| match v.as_str() {
                        Some(s) if s.len() >= 3 => Ok(()),
                        _ => Err("use at least 3 characters".to_string()),
                    }),
            )
            .attribute(
                Attribute::new("tags", Type::list(Type::String))
                    .optional()
                    .description("Tags."),
            )
            .attribute(
                Attribute::new("labels", Type::map(Type::String))
                    .optional()
                    .description("Labels."),
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("Identifier."),
            )
            .attribute(
                Attribute::string("secret")
                    .optional()
                    .sensitive()
                    .description("A secret."),
            )
            .attribute(
                Attribute::string("password_wo")
                    .optional()
                    .sensitive()
                    .write_only()
                    .description("Never stored."),
            )
            .attribute(
                Attribute::bool("archived")
                    .default(false)
                    .description("Paused."),
            )
            .block(timeouts::block(
                &["create", "delete"],
                "create 15m, delete 5m",
            )),
    }
}

fn attr<'a>(b: &'a pb::schema::Block, name: &str) -> &'a pb::schema::Attribute {
    b.attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("attribute {name} missing from {b:?}"))
}

#[test]
fn attribute_types_are_json_bytes() {
    let p = schema().to_proto();
    let b = p.block.as_ref().unwrap();
    assert_eq!(attr(b, "subdomain").r#type, br#""string""#);
    assert_eq!(attr(b, "tags").r#type, br#"["list","string"]"#);
    assert_eq!(attr(b, "labels").r#type, br#"["map","string"]"#);
    assert_eq!(attr(b, "archived").r#type, br#""bool""#);
    assert!(b.attributes.iter().all(|a| a.nested_type.is_none()));
    let object = Type::Object(
        [
            ("a".to_string(), Type::Number),
            ("b".to_string(), Type::set(Type::Bool)),
        ]
        .into_iter()
        .collect(),
    );
    assert_eq!(
        object.to_json_bytes(),
        br#"["object",{"a":"number","b":["set","bool"]}]"#
    );
    assert_eq!(Type::from_json(&object.to_json()).unwrap(), object);
}

#[test]
fn flags_descriptions_and_version() {
    let p = schema().to_proto();
    assert_eq!(p.version, 2);
    let b = p.block.as_ref().unwrap();
    assert_eq!(b.version, 2);
    assert_eq!(b.description, "An orchestra's **database**.");
    assert_eq!(b.description_kind, pb::StringKind::Markdown as i32);
    let sub = attr(b, "subdomain");
    assert!(sub.required && !sub.optional && !sub.computed);
    assert_eq!(sub.description, "DNS label.");
    assert_eq!(sub.description_kind, pb::StringKind::Markdown as i32);
    let id = attr(b, "id");
    assert!(id.computed && !id.optional && !id.required);
    assert!(attr(b, "secret").sensitive);
    let wo = attr(b, "password_wo");
    assert!(wo.write_only && wo.sensitive && wo.optional);
    let archived = attr(b, "archived");
    assert!(archived.optional && archived.computed);
    for a in &b.attributes {
        assert!(!a.description.is_empty(), "{} has no description", a.name);
    }
}

#[test]
fn timeouts_is_a_single_nested_block() {
    let p = schema().to_proto();
    let b = p.block.as_ref().unwrap();
    assert_eq!(b.block_types.len(), 1);
    let t = &b.block_types[0];
    assert_eq!(t.type_name, "timeouts");
    assert_eq!(
        t.nesting,
        pb::schema::nested_block::NestingMode::Single as i32
    );
    let inner = t.block.as_ref().unwrap();
    let names: Vec<_> = inner.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["create", "delete"]);
    for a in &inner.attributes {
        assert!(a.optional && !a.required && !a.computed, "{a:?}");
        assert_eq!(a.r#type, br#""string""#);
        assert!(a.description.contains(&a.name), "{a:?}");
    }
    assert!(
        inner.description.contains("create 15m"),
        "{}",
        inner.description
    );
    // The value type of the resource includes the block as an object attribute.
    let Type::Object(attrs) = schema().value_type() else {
        panic!("not an object")
    };
    assert_eq!(
        attrs["timeouts"],
        Type::Object(
            [
                ("create".to_string(), Type::String),
                ("delete".to_string(), Type::String)
            ]
            .into_iter()
            .collect()
        )
    );
}

fn config(pairs: &[(&str, Value)]) -> Value {
    let s = schema();
    let mut v = Value::Object(Default::default());
    for a in &s.block.attributes {
        v.set_attr(&a.name, Value::Null);
    }
    v.set_attr("timeouts", Value::Null);
    for (k, x) in pairs {
        v.set_attr(k, x.clone());
    }
    v
}

fn check(v: &Value) -> Diagnostics {
    let mut d = Diagnostics::default();
    schema()
        .block
        .validate_config(v, &AttributePath::default(), &mut d);
    d
}

fn paths(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|x| {
            x.attribute
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn valid_config_has_no_diagnostics() {
    let d = check(&config(&[("subdomain", "berlin".into())]));
    assert!(d.0.is_empty(), "{d:?}");
}

#[test]
fn missing_required_is_an_error_at_its_path() {
    let d = check(&config(&[]));
    assert!(d.has_errors());
    assert_eq!(paths(&d), ["subdomain"]);
    let e = &d.0[0];
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.summary, "Missing required argument");
    assert!(
        e.detail.contains("\"subdomain\" is required"),
        "{}",
        e.detail
    );
    assert_eq!(
        e.attribute.as_ref().unwrap().0,
        [PathStep::Attribute("subdomain".into())]
    );
    // An unknown value for a required attribute is fine at validation time.
    assert!(
        check(&config(&[("subdomain", Value::Unknown)]))
            .0
            .is_empty()
    );
}

#[test]
fn computed_only_attributes_cannot_be_configured() {
    let d = check(&config(&[
        ("subdomain", "berlin".into()),
        ("id", "mine".into()),
    ]));
    assert_eq!(paths(&d), ["id"]);
    assert_eq!(d.0[0].summary, "Value for unconfigurable attribute");
    // Optional+computed (a default) may be configured.
    let ok = check(&config(&[
        ("subdomain", "berlin".into()),
        ("archived", true.into()),
    ]));
    assert!(ok.0.is_empty(), "{ok:?}");
}

#[test]
fn validators_run_on_known_values_only() {
    let d = check(&config(&[("subdomain", "ab".into())]));
    assert_eq!(paths(&d), ["subdomain"]);
    assert_eq!(d.0[0].summary, "Invalid value for \"subdomain\"");
    assert_eq!(d.0[0].detail, "use at least 3 characters");
    // Unknown values are checked later, when known.
    assert!(
        check(&config(&[("subdomain", Value::Unknown)]))
            .0
            .is_empty()
    );
}

#[test]
fn nested_block_values_are_validated_with_their_path() {
    let mut t = Value::Object(Default::default());
    t.set_attr("create", "15x");
    t.set_attr("delete", "1h30m");
    let d = check(&config(&[("subdomain", "berlin".into()), ("timeouts", t)]));
    assert_eq!(paths(&d), ["timeouts.create"]);
    assert!(
        d.0[0].detail.contains("\"15x\" is not a duration"),
        "{}",
        d.0[0].detail
    );
    assert_eq!(
        timeouts::parse_duration("1h30m").unwrap(),
        std::time::Duration::from_secs(5400)
    );
    assert_eq!(
        timeouts::parse_duration("500ms").unwrap(),
        std::time::Duration::from_millis(500)
    );
    assert!(timeouts::parse_duration("").is_err());
    assert!(timeouts::parse_duration("m").is_err());
}

#[test]
fn list_block_counts_are_enforced() {
    let block = Block::new("root").block(NestedBlock {
        type_name: "rule".into(),
        block: Block::new("a rule")
            .attribute(Attribute::string("cidr").required().description("CIDR")),
        nesting: Nesting::List,
        min_items: 1,
        max_items: 2,
    });
    let rule = |cidr: Value| {
        let mut r = Value::Object(Default::default());
        r.set_attr("cidr", cidr);
        r
    };
    let mut v = Value::Object(Default::default());
    v.set_attr(
        "rule",
        Value::List(vec![
            rule("10.0.0.0/8".into()),
            rule(Value::Null),
            rule("x".into()),
        ]),
    );
    let mut d = Diagnostics::default();
    block.validate_config(&v, &AttributePath::default(), &mut d);
    assert_eq!(paths(&d), ["rule", "rule[1].cidr"], "{d:?}");
    assert!(d.0[0].detail.contains("found 3"), "{}", d.0[0].detail);
}

#[test]
fn null_write_only_clears_write_only_attributes_only() {
    let mut v = config(&[
        ("subdomain", "berlin".into()),
        ("secret", "kept".into()),
        ("password_wo", "hunter2".into()),
    ]);
    schema().block.null_write_only(&mut v);
    assert_eq!(v.attr("password_wo"), &Value::Null);
    assert_eq!(v.str_attr("secret"), Some("kept"));
    assert_eq!(v.str_attr("subdomain"), Some("berlin"));

    // At depth: write-only attributes inside list blocks are cleared too.
    let block = Block::new("root").block(NestedBlock {
        type_name: "user".into(),
        block: Block::new("a user")
            .attribute(Attribute::string("name").required().description("n"))
            .attribute(
                Attribute::string("pw")
                    .optional()
                    .write_only()
                    .description("p"),
            ),
        nesting: Nesting::List,
        min_items: 0,
        max_items: 0,
    });
    let mut u = Value::Object(Default::default());
    u.set_attr("name", "ann");
    u.set_attr("pw", "secret");
    let mut root = Value::Object(Default::default());
    root.set_attr("user", Value::List(vec![u]));
    block.null_write_only(&mut root);
    let users = root.attr("user").as_list().unwrap();
    assert_eq!(users[0].attr("pw"), &Value::Null);
    assert_eq!(users[0].str_attr("name"), Some("ann"));
}
