//! `GET /v1/projects/{ref}/api-keys`: the legacy `anon` and `service_role` JWT keys, shaped as
//! `ApiKeyResponse`. The keys are stable per project (derived from its ref and created time) and
//! look like Supabase's (three base64url parts); nothing verifies their signature here.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{ApiError, with_project};
use crate::service::Shared;
use crate::state::Project;

/// `GET /v1/projects/{ref}/api-keys` (`?reveal=` is accepted; legacy keys are always shown).
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(project_ref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = with_project(&shared, &project_ref, |project| project.clone())?;
    Ok(Json(json!([
        legacy_key(&project, "anon", "Legacy anon API key"),
        legacy_key(&project, "service_role", "Legacy service_role API key"),
    ])))
}

fn legacy_key(project: &Project, role: &str, description: &str) -> Value {
    json!({
        "name": role,
        "api_key": jwt(project, role),
        "id": role,
        "type": "legacy",
        "prefix": null,
        "description": description,
        "hash": null,
        "secret_jwt_template": null,
        "inserted_at": project.created_at,
        "updated_at": project.created_at,
    })
}

fn jwt(project: &Project, role: &str) -> String {
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let payload = json!({"iss": "supabase", "ref": project.project_ref, "role": role}).to_string();
    let mut signature = Vec::with_capacity(32);
    for round in 0u8..4 {
        let mut h = DefaultHasher::new();
        (round, &project.project_ref, &project.created_at, role).hash(&mut h);
        signature.extend_from_slice(&h.finish().to_be_bytes());
    }
    format!(
        "{}.{}.{}",
        base64url(header.as_bytes()),
        base64url(payload.as_bytes()),
        base64url(&signature)
    )
}

/// Base64url without padding (as in JWTs).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64url;

    #[test]
    fn base64url_matches_the_standard_encoding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
