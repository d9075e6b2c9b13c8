//! Verification of Stripe's `Stripe-Signature` header on the raw request body.
//!
//! Stripe signs `"<t>.<raw body>"` with HMAC-SHA256 keyed by the endpoint secret and sends
//! `t=<unix>,v1=<hex>[,v1=<hex>…]`. An event is genuine when any `v1` matches any configured secret
//! (during a secret roll Stripe signs with each live secret) and `t` is within 300 s of now, in either
//! direction. This is the check of Stripe's own libraries (the tests sign with Stripe's Node library):
//! one HMAC per configured secret, compared in constant time with every `v1`, and nothing parsed, so
//! that verifying costs a hash, not a deserialization of the event.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// Stripe's tolerance between the signature's timestamp and now.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a request is not a genuine Stripe delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    Missing,
    /// The header is not `t=…,v1=…`.
    #[error("malformed Stripe-Signature header (expected t=<unix>,v1=<hex>)")]
    Malformed,
    /// The body is not UTF-8 text, so it cannot be a Stripe event.
    #[error("request body is not UTF-8 JSON")]
    NotText,
    /// No `v1` signature matches any configured secret.
    #[error("no v1 signature matches the webhook secret")]
    Mismatch,
    /// The signature matches but its timestamp is more than 300 s from now.
    #[error("signature timestamp is more than {TOLERANCE_SECS} s from now")]
    Stale,
}

/// Checks `header` against the raw `body` for any of `secrets`.
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[String]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    // Parts are read as Stripe's own libraries read them: split on ',' then on the first '=', keys
    // compared exactly (no trimming), so a padded key such as " t" is an unknown part, not a timestamp.
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => {
                let at = t.parse::<i64>().map_err(|_| SignatureError::Malformed)?;
                timestamp = Some((t, at));
            }
            // A v1 that is not hex (or not 32 bytes) matches nothing, like a wrong one.
            Some(("v1", hex_sig)) => signatures.push(hex::decode(hex_sig).unwrap_or_default()),
            _ => {}
        }
    }
    let (Some((t_text, t)), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    std::str::from_utf8(body).map_err(|_| SignatureError::NotText)?;
    let genuine = secrets.iter().any(|secret| {
        // Signed as sent: the header's own digits, then '.', then the body.
        let expected = mac(secret, t_text, body);
        signatures
            .iter()
            .any(|given| bool::from(given.as_slice().ct_eq(expected.as_slice())))
    });
    if !genuine {
        return Err(SignatureError::Mismatch);
    }
    // abs_diff: a `t` near i64::MIN or i64::MAX must be stale, never an overflow.
    if unix_now().abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

fn mac(secret: &str, t: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Signs `body` the way Stripe does, at unix time `t` (for tests, the benchmark and local debugging).
pub fn sign(body: &[u8], secret: &str, t: i64) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(mac(secret, &t.to_string(), body))
    )
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id":"evt_1","object":"event","type":"ping.test","created":1,"livemode":false,"pending_webhooks":0,"api_version":null,"request":null,"data":{"object":{}}}"#;

    #[test]
    fn accepts_any_secret_and_any_v1() {
        let secrets = vec!["whsec_old".to_owned(), "whsec_new".to_owned()];
        let now = unix_now();
        let good = sign(EVENT.as_bytes(), "whsec_new", now);
        let header = format!("t={now},v1=00ff,{},v0=abc", good.split_once(',').unwrap().1);
        assert_eq!(verify(Some(&header), EVENT.as_bytes(), &secrets), Ok(()));
        let tampered = EVENT.replace("evt_1", "evt_2");
        assert_eq!(
            verify(Some(&good), tampered.as_bytes(), &secrets),
            Err(SignatureError::Mismatch)
        );
        let stale = sign(EVENT.as_bytes(), "whsec_new", now - 301);
        assert_eq!(
            verify(Some(&stale), EVENT.as_bytes(), &secrets),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(None, EVENT.as_bytes(), &secrets),
            Err(SignatureError::Missing)
        );
        for malformed in ["t=1", "v1=00", "t=x,v1=00", ""] {
            assert_eq!(
                verify(Some(malformed), EVENT.as_bytes(), &secrets),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
        let future = sign(EVENT.as_bytes(), "whsec_old", now + 301);
        assert_eq!(
            verify(Some(&future), EVENT.as_bytes(), &secrets),
            Err(SignatureError::Stale)
        );
        let wrong_stale = sign(EVENT.as_bytes(), "whsec_other", now - 1000);
        assert_eq!(
            verify(Some(&wrong_stale), EVENT.as_bytes(), &secrets),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), b"\xff", &secrets),
            Err(SignatureError::NotText)
        );
    }

    /// Found by fuzz target `signature_header`: a genuine header followed by a part whose key is `t`
    /// padded with white space was refused as malformed; Stripe's libraries ignore such a part.
    #[test]
    fn padded_keys_are_unknown_parts() {
        let secrets = vec!["whsec_new".to_owned()];
        let good = sign(EVENT.as_bytes(), "whsec_new", unix_now());
        for extra in ["\r\rt=\r", " t=x", "v1 =00", "\tv1=zz"] {
            let header = format!("{good},{extra}");
            assert_eq!(
                verify(Some(&header), EVENT.as_bytes(), &secrets),
                Ok(()),
                "{header:?}"
            );
        }
        let padded_only = format!(" {good}");
        assert_eq!(
            verify(Some(&padded_only), EVENT.as_bytes(), &secrets),
            Err(SignatureError::Malformed),
            "a header whose only t part is padded has no timestamp"
        );
    }

    /// Found by fuzz target `signature_header`: a genuine signature with `t=-9223372036854775808`
    /// made `now - t` overflow (a panic with overflow checks, as in tests and fuzzing).
    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        let secrets = vec!["whsec_new".to_owned()];
        for t in [i64::MIN, i64::MIN + 1, i64::MIN + 1000, i64::MAX] {
            let header = sign(EVENT.as_bytes(), "whsec_new", t);
            assert_eq!(
                verify(Some(&header), EVENT.as_bytes(), &secrets),
                Err(SignatureError::Stale),
                "{header}"
            );
        }
    }
}
