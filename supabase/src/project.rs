//! Project bodies: create request, project responses, list entries.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::region::Region;
use crate::secret::Secret;
use crate::status::ProjectStatus;

/// Body of `POST /v1/projects` (`V1CreateProjectBody`; the server rejects unknown fields, so
/// this sends only documented, non-deprecated ones plus `region` for specific regions).
#[derive(Clone, PartialEq)]
pub struct CreateProjectBody {
    /// Project name, unique in the organization (at most 256 characters, no `.`).
    pub name: String,
    /// Organization that will own the project.
    pub organization_slug: String,
    /// Password of the `postgres` user (at least 4 characters).
    pub db_pass: Secret,
    /// Region or smart group.
    pub region: Region,
    /// `desired_instance_size`, e.g. `micro`; `None` lets Supabase pick the smallest.
    pub desired_instance_size: Option<String>,
}

impl fmt::Debug for CreateProjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateProjectBody")
            .field("name", &self.name)
            .field("organization_slug", &self.organization_slug)
            .field("db_pass", &self.db_pass)
            .field("region", &self.region)
            .field("desired_instance_size", &self.desired_instance_size)
            .finish()
    }
}

/// What actually goes over the wire.
#[derive(Serialize)]
struct CreateProjectWire<'a> {
    name: &'a str,
    organization_slug: &'a str,
    db_pass: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region_selection: Option<RegionSelection<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    desired_instance_size: Option<&'a str>,
}

#[derive(Serialize)]
struct RegionSelection<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    code: &'a str,
}

impl Serialize for CreateProjectBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (region, region_selection) = match &self.region {
            Region::Specific(code) => (Some(code.as_str()), None),
            Region::SmartGroup(code) => (
                None,
                Some(RegionSelection {
                    kind: "smartGroup",
                    code,
                }),
            ),
        };
        CreateProjectWire {
            name: &self.name,
            organization_slug: &self.organization_slug,
            db_pass: self.db_pass.expose(),
            region,
            region_selection,
            desired_instance_size: self.desired_instance_size.as_deref(),
        }
        .serialize(serializer)
    }
}

/// A project as `GET /v1/projects/{ref}` and `GET /v1/projects` return it
/// (`V1ProjectWithDatabaseResponse`); also the `POST /v1/projects` answer, without `database`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Deprecated alias of `ref` (the CLI and official provider still read it).
    #[serde(default)]
    pub id: String,
    /// Project ref (20 lower-case letters), the project's id everywhere.
    #[serde(rename = "ref", default)]
    pub project_ref: String,
    /// Owning organization.
    #[serde(default)]
    pub organization_slug: String,
    /// Project name.
    pub name: String,
    /// Region code.
    #[serde(default)]
    pub region: String,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Status.
    pub status: ProjectStatus,
    /// Database details (absent in the create answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<ProjectDatabase>,
}

impl Project {
    /// Fills `project_ref` from `id` when an answer carries only the latter.
    pub(crate) fn normalize(mut self) -> Self {
        if self.project_ref.is_empty() {
            self.project_ref = self.id.clone();
        }
        self
    }
}

/// `database` of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDatabase {
    /// Direct host, e.g. `db.<ref>.supabase.co` (IPv6 only without the IPv4 add-on).
    pub host: String,
    /// Postgres version.
    #[serde(default)]
    pub version: String,
    /// Postgres engine.
    #[serde(default)]
    pub postgres_engine: String,
    /// Release channel.
    #[serde(default)]
    pub release_channel: String,
}

/// One entry of `GET /v1/organizations/{slug}/projects` (`OrganizationProjectsResponse.projects`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationProject {
    /// Project ref.
    #[serde(rename = "ref")]
    pub project_ref: String,
    /// Project name.
    pub name: String,
    /// Cloud provider.
    #[serde(default)]
    pub cloud_provider: String,
    /// Region code.
    #[serde(default)]
    pub region: String,
    /// Whether this is a branch project.
    #[serde(default)]
    pub is_branch: bool,
    /// Status.
    pub status: ProjectStatus,
    /// Creation time.
    #[serde(default)]
    pub inserted_at: String,
    /// Databases (primary and replicas).
    #[serde(default)]
    pub databases: Vec<OrganizationProjectDatabase>,
}

/// One database of an [`OrganizationProject`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationProjectDatabase {
    /// Compute size, e.g. `micro`.
    #[serde(default)]
    pub infra_compute_size: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Database status.
    #[serde(default)]
    pub status: String,
    /// Identifier.
    #[serde(default)]
    pub identifier: String,
    /// `PRIMARY` or `READ_REPLICA`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// A page of `GET /v1/organizations/{slug}/projects`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationProjectsPage {
    /// Projects on this page.
    pub projects: Vec<OrganizationProject>,
    /// Paging information.
    pub pagination: Pagination,
}

/// `pagination` of [`OrganizationProjectsPage`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pagination {
    /// Total number of projects.
    pub count: u64,
    /// Page size.
    pub limit: u64,
    /// Projects skipped.
    pub offset: u64,
}

/// What the list calls and [`crate::ProjectCache`] know about a project: the fields both the
/// organization list and the single-project answer carry.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    /// Project ref.
    pub project_ref: String,
    /// Project name.
    pub name: String,
    /// Region code.
    pub region: String,
    /// Status.
    pub status: ProjectStatus,
    /// Creation time.
    pub created_at: String,
    /// Compute size of the primary database, when the answer said.
    pub instance_size: Option<String>,
}

impl From<OrganizationProject> for ProjectSummary {
    fn from(p: OrganizationProject) -> Self {
        let instance_size = p
            .databases
            .iter()
            .find(|d| d.kind == "PRIMARY")
            .or(p.databases.first())
            .and_then(|d| d.infra_compute_size.clone());
        Self {
            project_ref: p.project_ref,
            name: p.name,
            region: p.region,
            status: p.status,
            created_at: p.inserted_at,
            instance_size,
        }
    }
}

impl From<Project> for ProjectSummary {
    fn from(p: Project) -> Self {
        let p = p.normalize();
        Self {
            project_ref: p.project_ref,
            name: p.name,
            region: p.region,
            status: p.status,
            created_at: p.created_at,
            instance_size: None,
        }
    }
}

/// Answer of `DELETE /v1/projects/{ref}` (`V1ProjectRefResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedProject {
    /// Numeric id.
    #[serde(default)]
    pub id: i64,
    /// Project ref.
    #[serde(rename = "ref")]
    pub project_ref: String,
    /// Project name.
    #[serde(default)]
    pub name: String,
}
