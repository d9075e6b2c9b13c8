//! The body of `POST /v1/projects` and the checks the real API applies to it.

use serde::Deserialize;

use super::ApiError;

/// Region codes the API accepts in `region` and `region_selection.code` (type `specific`).
pub(crate) const REGIONS: [&str; 18] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-east-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-central-1",
    "eu-central-2",
    "ca-central-1",
    "ap-south-1",
    "sa-east-1",
];

const INSTANCE_SIZES: [&str; 19] = [
    "nano",
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "24xlarge_optimized_memory",
    "24xlarge_optimized_cpu",
    "24xlarge_high_memory",
    "48xlarge",
    "48xlarge_optimized_memory",
    "48xlarge_optimized_cpu",
    "48xlarge_high_memory",
];

/// `V1CreateProjectBody`; `additionalProperties: false` in the spec, hence `deny_unknown_fields`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    pub(crate) db_pass: String,
    pub(crate) name: String,
    pub(crate) organization_slug: String,
    #[serde(rename = "organization_id")]
    _organization_id: Option<String>,
    plan: Option<String>,
    region: Option<String>,
    region_selection: Option<RegionSelection>,
    #[serde(rename = "kps_enabled")]
    _kps_enabled: Option<bool>,
    pub(crate) desired_instance_size: Option<String>,
    #[serde(rename = "template_url")]
    _template_url: Option<String>,
    // Accepted but hidden in the published spec (`hideDefinitions`).
    #[serde(rename = "release_channel")]
    _release_channel: Option<String>,
    #[serde(rename = "postgres_engine")]
    _postgres_engine: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionSelection {
    #[serde(rename = "type")]
    kind: String,
    code: String,
}

/// Whether `slug` matches the spec's `^[\w-]+$`.
pub(crate) fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// Checks the body like the real API and returns the region the project lands in.
pub(crate) fn validate(body: &CreateBody) -> Result<String, ApiError> {
    if body.name.trim().is_empty() || body.name.chars().count() > 256 || body.name.contains('.') {
        return Err(ApiError::bad_request(
            "name must be 1 to 256 characters and must not contain a dot",
        ));
    }
    if !valid_slug(&body.organization_slug) {
        return Err(ApiError::bad_request(
            "organization_slug must match ^[\\w-]+$",
        ));
    }
    if body.db_pass.chars().count() < 4 || body.db_pass.contains('\0') {
        return Err(ApiError::bad_request(
            "db_pass must be at least 4 characters long (and contain no NUL character)",
        ));
    }
    if let Some(plan) = &body.plan
        && plan != "free"
        && plan != "pro"
    {
        return Err(ApiError::bad_request("plan must be one of: free, pro"));
    }
    if let Some(size) = &body.desired_instance_size
        && !INSTANCE_SIZES.contains(&size.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "desired_instance_size must be one of: {}",
            INSTANCE_SIZES.join(", ")
        )));
    }
    match (&body.region, &body.region_selection) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "Only one of region or region_selection can be specified",
        )),
        (Some(region), None) => specific_region(region),
        (None, Some(selection)) => match selection.kind.as_str() {
            "specific" => specific_region(&selection.code),
            "smartGroup" => match selection.code.as_str() {
                "americas" => Ok("us-east-1".into()),
                "emea" => Ok("eu-central-1".into()),
                "apac" => Ok("ap-southeast-1".into()),
                other => Err(ApiError::bad_request(format!(
                    "region_selection.code {other:?} is not a smart group: use americas, emea or apac"
                ))),
            },
            other => Err(ApiError::bad_request(format!(
                "region_selection.type {other:?} must be specific or smartGroup"
            ))),
        },
        (None, None) => Ok("us-east-1".into()),
    }
}

fn specific_region(code: &str) -> Result<String, ApiError> {
    if REGIONS.contains(&code) {
        Ok(code.to_string())
    } else {
        Err(ApiError::bad_request(format!(
            "region {code:?} is not one of: {}",
            REGIONS.join(", ")
        )))
    }
}
