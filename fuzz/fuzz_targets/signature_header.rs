//! `Stripe-Signature` header parsing and verification (`stagesub_bridge::signature::verify`).
//!
//! Input: one mode byte, then `header \n body`. Mode 0 verifies the header as given; mode 1 puts a
//! genuine signature (at a time offset taken from the second byte) in front of the fuzzed header parts;
//! mode 2 signs with the fuzzed header's own `t=` value, so any timestamp reaches the freshness check.
//! Checks: never a panic; `Ok` only with a genuine `v1` for the header's timestamp within 300 s; a
//! genuine, fresh signature is accepted whenever the other parts are well formed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stagesub_bridge::signature::{SignatureError, sign, unix_now, verify};

const SECRET: &str = "whsec_fuzz";

/// The `key=value` parts of a header, `None` for a part without `=`.
fn parts(header: &str) -> Vec<Option<(&str, &str)>> {
    header.split(',').map(|p| p.split_once('=')).collect()
}

/// The value of the last `t=` part, as Stripe's parser reads it.
fn last_t(header: &str) -> Option<Result<i64, ()>> {
    parts(header)
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k == "t")
        .last()
        .map(|(_, v)| v.parse().map_err(|_| ()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (offset, rest) = match rest.split_first() {
        Some((&b, r)) if mode % 3 == 1 => (i64::from(b as i8) * 10, r),
        _ => (0, rest),
    };
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let Ok(fuzzed) = std::str::from_utf8(&rest[..split]) else {
        return;
    };
    let body = rest.get(split + 1..).unwrap_or_default();
    let secrets = vec!["whsec_other".to_owned(), SECRET.to_owned()];
    let now = unix_now();

    let header = match mode % 3 {
        0 => fuzzed.to_owned(),
        1 => {
            let good = sign(body, SECRET, now + offset);
            if fuzzed.is_empty() {
                good
            } else {
                format!("{good},{fuzzed}")
            }
        }
        _ => match last_t(fuzzed) {
            Some(Ok(t)) => {
                let v1 = sign(body, SECRET, t);
                format!("{fuzzed},{}", v1.split_once(',').expect("t=..,v1=..").1)
            }
            _ => fuzzed.to_owned(),
        },
    };
    let result = verify(Some(&header), body, &secrets);

    if result.is_ok() {
        let text = std::str::from_utf8(body).expect("Ok for a body that is not UTF-8");
        let Some(Ok(t)) = last_t(&header) else {
            panic!("Ok without a numeric t= in {header:?}");
        };
        let genuine = sign(text.as_bytes(), SECRET, t);
        let genuine_v1 = genuine.split_once(",v1=").expect("v1").1;
        assert!(
            parts(&header)
                .into_iter()
                .flatten()
                .any(|(k, v)| k == "v1" && v.eq_ignore_ascii_case(genuine_v1)),
            "Ok without a genuine v1 in {header:?}"
        );
        assert!(
            (now - t).abs() <= 302,
            "Ok for a stale timestamp {t} (now {now})"
        );
    }

    // A genuine signature in front, other parts well formed and no second `t`: accepted when fresh.
    if mode % 3 == 1 && offset.abs() != 300 {
        let well_formed = fuzzed.is_empty()
            || parts(fuzzed)
                .into_iter()
                .all(|p| p.is_some_and(|(k, _)| k != "t"));
        if well_formed && std::str::from_utf8(body).is_ok() {
            let expected = if offset.abs() < 300 {
                Ok(())
            } else {
                Err(SignatureError::Stale)
            };
            assert_eq!(result, expected, "header {header:?}");
        }
    }
});
