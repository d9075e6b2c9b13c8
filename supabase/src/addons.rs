//! Billing add-ons of a project, above all its compute size (`/v1/projects/{ref}/billing/addons`).
//!
//! A project's compute size is the `compute_instance` add-on: variant `ci_micro`, `ci_small`, …
//! ([`ComputeSize::variant`]). The smallest size, `nano`, has no variant: a project without a
//! selected compute add-on runs on `nano`. Changing the variant restarts the project's database
//! (status `RESIZING` or `RESTARTING`, then `ACTIVE_HEALTHY` again); its ref and data stay.
//!
//! Applying and removing are not retried blindly: a call whose answer was lost may have restarted
//! the project, so they are retried only when refused (429) or never sent, and the caller reads the
//! selection back ([`Client::project_addons`]) to learn what happened.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::projects::check_ref;
use crate::transport::{Call, RetryMode};

/// `addon_type` of the compute size.
pub const COMPUTE_INSTANCE: &str = "compute_instance";

/// The compute sizes Supabase offers, smallest first (`infra_compute_size` spelling).
pub const COMPUTE_SIZES: [&str; 19] = [
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
    "24xlarge_optimized_cpu",
    "24xlarge_optimized_memory",
    "24xlarge_high_memory",
    "48xlarge",
    "48xlarge_optimized_cpu",
    "48xlarge_optimized_memory",
    "48xlarge_high_memory",
];

/// A compute size by its user-facing name (`micro`, `small`, …), one of [`COMPUTE_SIZES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComputeSize(String);

impl ComputeSize {
    /// Parses a size name (`small`) or its add-on variant (`ci_small`); says which names exist
    /// otherwise.
    pub fn parse(text: &str) -> Result<Self> {
        let name = text.trim().strip_prefix("ci_").unwrap_or(text.trim());
        if COMPUTE_SIZES.contains(&name) {
            Ok(ComputeSize(name.to_owned()))
        } else {
            Err(Error::InvalidInput(format!(
                "unknown Supabase compute size {text:?}: use one of {}",
                COMPUTE_SIZES.join(", ")
            )))
        }
    }

    /// The size's name, e.g. `small`.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The `compute_instance` add-on variant, e.g. `ci_small`; `None` for `nano` (no add-on).
    pub fn variant(&self) -> Option<String> {
        (self.0 != "nano").then(|| format!("ci_{}", self.0))
    }

    /// The size of a `compute_instance` variant id (`ci_small` → `small`), if it is one.
    pub fn from_variant(variant: &str) -> Option<Self> {
        let name = variant.strip_prefix("ci_")?;
        COMPUTE_SIZES
            .contains(&name)
            .then(|| ComputeSize(name.to_owned()))
    }
}

impl std::fmt::Display for ComputeSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `price` of an add-on variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddonPrice {
    /// Human description, e.g. `$0.0206/hour (~$15/month)`.
    pub description: String,
    /// `fixed` or `usage`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `monthly` or `hourly`.
    pub interval: String,
    /// Amount in USD per `interval`.
    pub amount: f64,
}

/// One variant of an add-on (`id` such as `ci_small`, `pitr_7`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddonVariant {
    /// Variant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price.
    pub price: AddonPrice,
    /// Variant-specific details (CPU, memory, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// An add-on applied to the project (`selected_addons` item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectedAddon {
    /// `compute_instance`, `pitr`, `ipv4`, `custom_domain`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The applied variant.
    pub variant: AddonVariant,
}

/// An add-on the project can be given (`available_addons` item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableAddon {
    /// Add-on type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Variants the organization can provision.
    pub variants: Vec<AddonVariant>,
}

/// Answer of `GET /v1/projects/{ref}/billing/addons` (`ListProjectAddonsResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectAddons {
    /// Add-ons in force, including the compute size (absent on `nano`).
    pub selected_addons: Vec<SelectedAddon>,
    /// Add-on options the organization can provision for this project.
    pub available_addons: Vec<AvailableAddon>,
}

impl ProjectAddons {
    /// The compute size in force: the selected `compute_instance` variant, else `nano`.
    pub fn compute_size(&self) -> ComputeSize {
        self.selected_addons
            .iter()
            .filter(|a| a.kind == COMPUTE_INSTANCE)
            .find_map(|a| ComputeSize::from_variant(&a.variant.id))
            .unwrap_or_else(|| ComputeSize("nano".into()))
    }

    /// The compute sizes the organization can choose for this project, smallest first. The current
    /// size is always among them (a project can stay as it is).
    pub fn available_compute_sizes(&self) -> Vec<ComputeSize> {
        let mut sizes: Vec<ComputeSize> = self
            .available_addons
            .iter()
            .filter(|a| a.kind == COMPUTE_INSTANCE)
            .flat_map(|a| a.variants.iter())
            .filter_map(|v| ComputeSize::from_variant(&v.id))
            .collect();
        sizes.push(self.compute_size());
        sizes.sort_by_key(|s| COMPUTE_SIZES.iter().position(|n| *n == s.name()));
        sizes.dedup();
        sizes
    }
}

/// Body of `PATCH /v1/projects/{ref}/billing/addons` (`ApplyProjectAddonBody`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyAddonBody {
    /// Variant to apply, e.g. `ci_small`.
    pub addon_variant: String,
    /// Its add-on type, e.g. `compute_instance`.
    pub addon_type: String,
}

impl Client {
    /// `GET /v1/projects/{ref}/billing/addons`: the add-ons in force (with the compute size) and
    /// the options the organization can provision.
    pub async fn project_addons(&self, project_ref: &str) -> Result<ProjectAddons> {
        self.get_json(project_ref, &["billing", "addons"]).await
    }

    /// `PATCH /v1/projects/{ref}/billing/addons`: applies `body`'s variant. A compute change
    /// restarts the database; wait for `ACTIVE_HEALTHY` afterwards. Retried only when refused
    /// (429) or never sent: after a lost answer read [`Client::project_addons`] to see whether it
    /// was applied.
    pub async fn apply_project_addon(
        &self,
        project_ref: &str,
        body: &ApplyAddonBody,
    ) -> Result<()> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::PATCH,
            &["v1", "projects", project_ref, "billing", "addons"],
            RetryMode::RefusedOnly,
        )
        .project(project_ref)
        .json(body)?;
        self.execute(&call).await.map(drop)
    }

    /// `DELETE /v1/projects/{ref}/billing/addons/{addon_variant}`: removes an add-on (for the
    /// compute add-on: back to `nano`). `false` when the project did not have it (404). Retried
    /// only when refused or never sent, like [`Client::apply_project_addon`].
    pub async fn remove_project_addon(
        &self,
        project_ref: &str,
        addon_variant: &str,
    ) -> Result<bool> {
        check_ref(project_ref)?;
        if addon_variant.is_empty()
            || !addon_variant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(Error::InvalidInput(format!(
                "invalid add-on variant {addon_variant:?}: use an id such as ci_small or pitr_7"
            )));
        }
        let call = Call::new(
            Method::DELETE,
            &[
                "v1",
                "projects",
                project_ref,
                "billing",
                "addons",
                addon_variant,
            ],
            RetryMode::RefusedOnly,
        )
        .project(project_ref);
        match self.execute(&call).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets the compute size: applies its `compute_instance` variant, or for `nano` removes the
    /// compute add-on in force. Does nothing (and answers `false`) when `addons` (read just before)
    /// shows the size already in force.
    pub async fn set_compute_size(
        &self,
        project_ref: &str,
        addons: &ProjectAddons,
        size: &ComputeSize,
    ) -> Result<bool> {
        let current = addons.compute_size();
        if &current == size {
            return Ok(false);
        }
        match size.variant() {
            Some(variant) => {
                self.apply_project_addon(
                    project_ref,
                    &ApplyAddonBody {
                        addon_variant: variant,
                        addon_type: COMPUTE_INSTANCE.into(),
                    },
                )
                .await?;
            }
            None => {
                if let Some(variant) = current.variant() {
                    self.remove_project_addon(project_ref, &variant).await?;
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_to_variants_and_back() {
        let small = ComputeSize::parse("small").unwrap();
        assert_eq!(small.variant().as_deref(), Some("ci_small"));
        assert_eq!(ComputeSize::parse("ci_small").unwrap(), small);
        assert_eq!(ComputeSize::from_variant("ci_small"), Some(small));
        assert_eq!(ComputeSize::parse("nano").unwrap().variant(), None);
        assert_eq!(ComputeSize::from_variant("pitr_7"), None);
        let err = ComputeSize::parse("huge").unwrap_err().to_string();
        assert!(
            err.contains("\"huge\"") && err.contains("micro, small"),
            "{err}"
        );
    }

    #[test]
    fn the_listing_names_the_size_in_force_and_the_choices() {
        let json = serde_json::json!({
            "selected_addons": [
                {"type": "pitr", "variant": {"id": "pitr_7", "name": "7 days", "price": {"description": "", "type": "fixed", "interval": "monthly", "amount": 100}}},
                {"type": "compute_instance", "variant": {"id": "ci_small", "name": "Small", "price": {"description": "", "type": "usage", "interval": "hourly", "amount": 0.0206}}}
            ],
            "available_addons": [{"type": "compute_instance", "name": "Compute Instance", "variants": [
                {"id": "ci_medium", "name": "Medium", "price": {"description": "", "type": "usage", "interval": "hourly", "amount": 0.0822}},
                {"id": "ci_micro", "name": "Micro", "price": {"description": "", "type": "usage", "interval": "hourly", "amount": 0.01344}}
            ]}]
        });
        let addons: ProjectAddons = serde_json::from_value(json).unwrap();
        assert_eq!(addons.compute_size().name(), "small");
        let names: Vec<String> = addons
            .available_compute_sizes()
            .iter()
            .map(|s| s.name().to_owned())
            .collect();
        assert_eq!(names, ["micro", "small", "medium"]);
        let none: ProjectAddons =
            serde_json::from_str(r#"{"selected_addons":[],"available_addons":[]}"#).unwrap();
        assert_eq!(none.compute_size().name(), "nano");
    }
}
