//! The envelope every Stripe event has, read once from the verified body.
//!
//! Intake reads only `id`, `object`, `type`, `created` and checks that `data.object` is an object; the
//! rest is skipped without building a tree (the worker reads the whole event later, from the stored
//! body). Both read [`json::readable`] text, so a body with an unpaired surrogate escape still parses.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::json;
use crate::error::Error;
use crate::store::StoredEvent;

/// A verified delivery, ready to be recorded.
#[derive(Debug, Clone)]
pub struct ReceivedEvent<'a> {
    /// Stripe's event id (`evt_…`): printable ASCII, at most 255 bytes.
    pub id: String,
    /// Event type; a NUL in it is stored as U+FFFD.
    pub event_type: String,
    /// Stripe's `created` time, unix seconds.
    pub created: i64,
    /// The body exactly as received.
    pub body: &'a [u8],
    /// The body as Postgres' jsonb can hold it (see [`json::storable`]).
    pub storable: Cow<'a, [u8]>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    object: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    event_type: Cow<'a, str>,
    created: i64,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    object: &'a RawValue,
}

fn not_an_event(reason: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("not a Stripe event: {reason}"))
}

/// Reads a verified body's envelope; the error says what makes it not a Stripe event.
pub fn parse_envelope(body: &[u8]) -> Result<ReceivedEvent<'_>, Error> {
    let text = json::readable(body);
    let envelope: Envelope<'_> = serde_json::from_slice(&text).map_err(not_an_event)?;
    let id = &*envelope.id;
    // Stripe's ids are short ASCII words; anything else cannot be a Stripe event.
    if !id.starts_with("evt_") || id.len() > 255 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(not_an_event("event id must look like evt_…"));
    }
    if envelope.object != "event" {
        return Err(not_an_event("object is not \"event\""));
    }
    if !envelope.data.object.get().starts_with('{') {
        return Err(not_an_event("data.object is not an object"));
    }
    Ok(ReceivedEvent {
        id: id.to_owned(),
        event_type: envelope.event_type.replace('\0', "\u{fffd}"),
        created: envelope.created,
        body,
        storable: json::storable(body),
    })
}

/// The whole event, read from a stored body for the worker. A body Rust cannot read (which intake
/// would not have accepted) gives a `Null` payload, which [`meaning`](super::meaning) reports.
pub fn read_stored(id: String, event_type: String, created: i64, body: &[u8]) -> StoredEvent {
    let payload = serde_json::from_slice(&json::readable(body)).unwrap_or(Value::Null);
    StoredEvent {
        id,
        event_type,
        created,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let ok = br#"{"id":"evt_1","object":"event","type":"a.b","created":5,"data":{"object":{"x":"\ud800"}},"extra":"\u0000"}"#;
        let e = parse_envelope(ok).unwrap();
        assert_eq!(
            (e.id.as_str(), e.event_type.as_str(), e.created),
            ("evt_1", "a.b", 5)
        );
        assert!(!e.storable.windows(6).any(|w| w == b"\\u0000"));
        let nul_type =
            br#"{"id":"evt_1","object":"event","type":"a\u0000","created":5,"data":{"object":{}}}"#;
        assert_eq!(parse_envelope(nul_type).unwrap().event_type, "a\u{fffd}");
        for bad in [
            &br#"{"id":"evt_\u0000","object":"event","type":"t","created":1,"data":{"object":{}}}"#
                [..],
            br#"{"id":"evt_\ud800","object":"event","type":"t","created":1,"data":{"object":{}}}"#,
            br#"{"id":"ch_1","object":"event","type":"t","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","object":"charge","type":"t","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","object":"event","type":"t","created":1.5,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","object":"event","type":"t","created":1,"data":{"object":[]}}"#,
            br#"{"id":"evt_1","object":"event","type":"t","created":1}"#,
            b"not json",
        ] {
            let err = parse_envelope(bad).unwrap_err();
            assert!(err.is_client_error(), "{err}");
        }
    }
}
