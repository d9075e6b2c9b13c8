//! The table of tenant values that the equality test runs through both rule sets.

use stagesub_tenant::{
    ALLOWED_PLANS, Field, RESERVED_SUBDOMAINS, SMART_REGION_GROUPS, SUPABASE_REGIONS, Tenant,
    chars::{REFUSED, WHITE_SPACE},
};

/// One value tried in one field of an otherwise valid tenant.
#[derive(Debug)]
pub(crate) struct Case {
    /// The field that varies.
    pub(crate) field: Field,
    /// The tenant with that value.
    pub(crate) tenant: Tenant,
    /// Why the case is in the table.
    pub(crate) note: String,
}

/// A tenant every rule accepts.
pub(crate) fn good() -> Tenant {
    Tenant {
        contact_email: Some("office@bach.example".into()),
        plan: Some("pro".into()),
        region: Some("eu-central-1".into()),
        ..Tenant::new("bach-collegium", "Bach Collegium")
    }
}

fn case(field: Field, value: Option<String>, note: impl Into<String>) -> Case {
    let mut tenant = good();
    match field {
        Field::Subdomain => tenant.subdomain = value.unwrap_or_default(),
        Field::OrchestraName => tenant.orchestra_name = value.unwrap_or_default(),
        Field::ContactEmail => tenant.contact_email = value,
        Field::Plan => tenant.plan = value,
        Field::Region => tenant.region = value,
    }
    Case {
        field,
        tenant,
        note: note.into(),
    }
}

/// Code points spread over all planes (a fixed linear congruential sequence), never surrogates.
fn sample(count: usize) -> Vec<char> {
    let mut state: u64 = 0x5eed;
    let mut out = Vec::new();
    while out.len() < count {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let plane_bias = if out.len() % 3 == 0 {
            0x10000
        } else {
            0x110000
        };
        if let Some(c) = char::from_u32(((state >> 33) % plane_bias) as u32) {
            out.push(c);
        }
    }
    out
}

/// Every refused range's ends and middle, the code points just outside it, and a sample of all planes.
fn interesting_chars() -> Vec<(char, String)> {
    let mut out = Vec::new();
    for range in REFUSED {
        let (a, b) = (range.first as u32, range.last as u32);
        for cp in [a, b, a.wrapping_sub(1), b + 1] {
            if let Some(c) = char::from_u32(cp) {
                out.push((c, format!("U+{cp:04X} near {}", range.class)));
            }
        }
    }
    for &(a, b) in WHITE_SPACE {
        for c in [a, b] {
            out.push((c, format!("white space U+{:04X}", c as u32)));
        }
    }
    for c in sample(300) {
        out.push((c, format!("sampled U+{:04X}", c as u32)));
    }
    out
}

/// The whole table.
pub(crate) fn cases() -> Vec<Case> {
    use Field::*;
    let s = |v: &str| Some(v.to_owned());
    let mut out = Vec::new();
    let subdomains = [
        "abc", "a1b", "ab-c", "bach--x", "0aa", "ab", "-abc", "abc-", "ABC", "a_b", "xn--abc",
        "ab--c", "été", "", "a.bc", " abc", "abc\n",
    ];
    for v in subdomains {
        out.push(case(Subdomain, s(v), "subdomain"));
    }
    for v in ["x".repeat(63), "x".repeat(64), "1".repeat(3)] {
        out.push(case(Subdomain, Some(v), "length"));
    }
    for v in RESERVED_SUBDOMAINS {
        out.push(case(Subdomain, s(v), "reserved"));
        out.push(case(
            Subdomain,
            Some(format!("{v}1x")),
            "reserved word inside",
        ));
    }
    let names = [
        "Berliner \"Phil\" ${x} %{y}",
        "東京フィル 🎻",
        "a\u{A0}b",
        "a\u{202F}b",
        "❤\u{FE0F}",
        " padded ",
        "a\u{E0100}",
        "",
        "   ",
        "\u{3000}",
        "\u{A0}",
        "a\tb",
        "a\nb",
        "\r",
        "\u{85}",
        "x",
    ];
    for v in names {
        out.push(case(OrchestraName, s(v), "name"));
    }
    for (v, note) in [
        ("x".repeat(256), "256 ASCII"),
        ("x".repeat(257), "257 ASCII"),
        ("é".repeat(256), "256 é"),
        ("é".repeat(257), "257 é"),
        ("e\u{301}".repeat(256), "256 decomposed é"),
        ("e\u{301}".repeat(257), "257 decomposed é"),
        ("🎻".repeat(256), "256 astral"),
        ("🎻".repeat(257), "257 astral"),
    ] {
        out.push(case(OrchestraName, Some(v), note));
    }
    let emails = [
        "a@b.co",
        "first.last+tag@sub.example.org",
        "jürgen@müller.de",
        "a@b-c.d",
        "\"q\"@x.y",
        "",
        "nope",
        "@b.co",
        "a@b",
        "a@@b.co",
        "a@b@c.co",
        "a@b.",
        "a@.b",
        "a@b..c",
        "a b@c.de",
        ".@.",
        "a@b.c ",
        "a@b.c\n",
    ];
    for v in emails {
        out.push(case(ContactEmail, s(v), "email"));
    }
    out.push(case(ContactEmail, None, "no email"));
    for (len, note) in [(254, "254 long"), (255, "255 long")] {
        let local = "x".repeat(len - "@example.org".len());
        out.push(case(
            ContactEmail,
            Some(format!("{local}@example.org")),
            note,
        ));
    }
    // Each character the crate refuses gets its own value; those it accepts share values of up
    // to 64 characters, so the table stays small enough for one quick plan.
    let embed = |field: Field, i: usize, text: &str| match field {
        OrchestraName => format!("Bach{text}x"),
        _ if i.is_multiple_of(2) => format!("of{text}fice@bach.example"),
        _ => format!("office@ba{text}ch.example"),
    };
    for field in [OrchestraName, ContactEmail] {
        let mut accepted: Vec<char> = Vec::new();
        for (i, (c, note)) in interesting_chars().into_iter().enumerate() {
            let value = embed(field, i, &c.to_string());
            if field.validate(&value).is_err() {
                out.push(case(field, Some(value), note));
            } else {
                accepted.push(c);
            }
        }
        for (i, chunk) in accepted.chunks(64).enumerate() {
            let text: String = chunk.iter().collect();
            let note = format!("accepted characters U+{:04X}...", chunk[0] as u32);
            out.push(case(field, Some(embed(field, i, &text)), note));
        }
    }
    for v in ALLOWED_PLANS.iter().chain(&["gold", "Pro", "", " pro"]) {
        out.push(case(Plan, s(v), "plan"));
    }
    out.push(case(Plan, None, "no plan"));
    let regions = SUPABASE_REGIONS.iter().chain(SMART_REGION_GROUPS);
    for v in regions.chain(&["mars-1", "eu-mars-9", "EU-CENTRAL-1", "", "europe", "emea "]) {
        out.push(case(Region, s(v), "region"));
    }
    out.push(case(Region, None, "no region"));
    out
}
