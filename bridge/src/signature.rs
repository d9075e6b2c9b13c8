//! Verification of Stripe's `Stripe-Signature` header on the raw request body.
//!
//! Stripe signs `"<t>.<raw body>"` with HMAC-SHA256 keyed by the endpoint secret and sends
//! `t=<unix>,v1=<hex>[,v1=<hex>…]`. An event is genuine when any `v1` matches any configured secret
//! (during a secret roll Stripe signs with each live secret) and `t` is within 300 s of now.
//!
//! The check itself is `async-stripe-webhook`'s `Webhook::construct_event` (constant-time comparison,
//! tolerance in both directions), called once per configured secret. That function also parses the
//! event into the typed structs of the API version it was generated for, and it does so only after the
//! signature and timestamp passed; a `BadParse` therefore still means "genuine", and the bridge accepts
//! such an event (it stores the raw payload and reads the few fields it needs itself) instead of
//! refusing a real Stripe delivery whose object shape is newer than the crate.

use stripe_webhook::{Webhook, WebhookError};

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
    if !header.split(',').any(|p| p.starts_with("t="))
        || !header.split(',').any(|p| p.starts_with("v1="))
    {
        return Err(SignatureError::Malformed);
    }
    let body = std::str::from_utf8(body).map_err(|_| SignatureError::NotText)?;
    // The library computes `now - t` unchecked, which overflows (a panic with overflow checks) for `t`
    // near i64::MIN; a `t` billions of years ago is stale whatever the signature says.
    if signed_at(header).is_some_and(|t| t < i64::MIN / 2) {
        return Err(SignatureError::Stale);
    }
    let mut best = SignatureError::Mismatch;
    for secret in secrets {
        match Webhook::construct_event(body, header, secret) {
            // BadParse comes only after a matching signature and a fresh timestamp.
            Ok(_) | Err(WebhookError::BadParse(_)) => return Ok(()),
            Err(WebhookError::BadTimestamp(_)) => best = SignatureError::Stale,
            Err(WebhookError::BadHeader(_)) => return Err(SignatureError::Malformed),
            Err(_) => {}
        }
    }
    Err(best)
}

/// The timestamp the library checks: the value of the last `t=` part, when it is an integer.
fn signed_at(header: &str) -> Option<i64> {
    header
        .rsplit(',')
        .filter_map(|part| part.split_once('='))
        .find(|(key, _)| *key == "t")
        .and_then(|(_, value)| value.parse().ok())
}

/// Signs `body` the way Stripe does, at unix time `t` (for tests, the benchmark and local debugging).
pub fn sign(body: &[u8], secret: &str, t: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
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
        assert_eq!(
            verify(Some("t=1"), EVENT.as_bytes(), &secrets),
            Err(SignatureError::Malformed)
        );
    }

    /// Found by fuzz target `signature_header`: a genuine signature with `t=-9223372036854775808`
    /// made the library's `now - t` overflow (a panic with overflow checks, as in tests and fuzzing).
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
