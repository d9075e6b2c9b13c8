//! Project endpoints: create, get, list, find by name, delete, pause, restore.

use std::collections::HashSet;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Result, TransportKind};
use crate::project::{
    CreateProjectBody, DeletedProject, OrganizationProjectsPage, Project, ProjectSummary,
};
use crate::transport::{Call, RetryMode};

/// Page size of the organization project list (the API's maximum).
pub const PAGE_SIZE: u64 = 100;

impl Client {
    /// `POST /v1/projects`. Never retried: there is no idempotency key, so when the answer is
    /// lost (timeout, 5xx, reset connection) this returns [`Error::CreateOutcomeUnknown`] and
    /// the caller should look the project up with [`Client::find_project_by_name`].
    pub async fn create_project(&self, body: &CreateProjectBody) -> Result<Project> {
        validate_create(body)?;
        let call = Call::new(Method::POST, &["v1", "projects"], RetryMode::Never).json(body)?;
        let unknown = |reason: String| Error::CreateOutcomeUnknown {
            name: body.name.clone(),
            organization_slug: body.organization_slug.clone(),
            reason,
        };
        match self.execute(&call).await {
            Ok(bytes) => decode::<Project>(&call, &bytes).map(Project::normalize),
            Err(Error::Api {
                status, message, ..
            }) if status >= 500 => Err(unknown(format!("HTTP {status}: {message}"))),
            Err(Error::Transport { kind, message, .. }) if kind != TransportKind::Connect => {
                Err(unknown(format!("{kind}: {message}")))
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/projects/{ref}`; `None` when the project does not exist (404).
    pub async fn get_project(&self, project_ref: &str) -> Result<Option<Project>> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::GET,
            &["v1", "projects", project_ref],
            RetryMode::Idempotent,
        )
        .project(project_ref);
        match self.execute(&call).await {
            Ok(bytes) => Ok(Some(decode::<Project>(&call, &bytes)?.normalize())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every project of an organization: `GET /v1/organizations/{slug}/projects`, 100 a page,
    /// until all are read. Falls back to `GET /v1/projects` filtered by organization when the
    /// organization endpoint answers 404.
    pub async fn list_organization_projects(&self, slug: &str) -> Result<Vec<ProjectSummary>> {
        self.list_projects_matching(slug, None).await
    }

    /// The project named exactly `name` in the organization (searches with `search=name`, then
    /// compares names exactly).
    pub async fn find_project_by_name(
        &self,
        slug: &str,
        name: &str,
    ) -> Result<Option<ProjectSummary>> {
        let found = self.list_projects_matching(slug, Some(name)).await?;
        Ok(found.into_iter().find(|p| p.name == name))
    }

    /// One page of `GET /v1/organizations/{slug}/projects`.
    pub async fn organization_projects_page(
        &self,
        slug: &str,
        offset: u64,
        limit: u64,
        search: Option<&str>,
    ) -> Result<OrganizationProjectsPage> {
        check_slug(slug)?;
        let mut call = Call::new(
            Method::GET,
            &["v1", "organizations", slug, "projects"],
            RetryMode::Idempotent,
        )
        .query("offset", offset.to_string())
        .query("limit", limit.clamp(1, PAGE_SIZE).to_string())
        // Oldest first: projects created while we page land at the end, not in between.
        .query("sort", "created_asc");
        if let Some(s) = search {
            call = call.query("search", s);
        }
        let bytes = self.execute(&call).await?;
        decode(&call, &bytes)
    }

    /// `GET /v1/projects`: every project the token can see, all organizations, unpaginated.
    pub async fn list_all_projects(&self) -> Result<Vec<Project>> {
        let call = Call::new(Method::GET, &["v1", "projects"], RetryMode::Idempotent);
        let bytes = self.execute(&call).await?;
        let projects: Vec<Project> = decode(&call, &bytes)?;
        Ok(projects.into_iter().map(Project::normalize).collect())
    }

    async fn list_projects_matching(
        &self,
        slug: &str,
        search: Option<&str>,
    ) -> Result<Vec<ProjectSummary>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut offset = 0;
        loop {
            let page = match self
                .organization_projects_page(slug, offset, PAGE_SIZE, search)
                .await
            {
                Ok(page) => page,
                Err(e) if e.is_not_found() && offset == 0 => {
                    tracing::info!(
                        organization = slug,
                        "organization project list answered 404; listing all projects instead"
                    );
                    return self.all_projects_of(slug, search).await;
                }
                Err(e) => return Err(e),
            };
            let n = page.projects.len() as u64;
            for p in page.projects {
                if seen.insert(p.project_ref.clone()) {
                    out.push(ProjectSummary::from(p));
                }
            }
            offset += n;
            if n == 0 || offset >= page.pagination.count {
                return Ok(out);
            }
        }
    }

    async fn all_projects_of(
        &self,
        slug: &str,
        search: Option<&str>,
    ) -> Result<Vec<ProjectSummary>> {
        let all = self.list_all_projects().await?;
        Ok(all
            .into_iter()
            .filter(|p| p.organization_slug == slug)
            .filter(|p| search.is_none_or(|s| p.name.contains(s)))
            .map(ProjectSummary::from)
            .collect())
    }

    /// `DELETE /v1/projects/{ref}`: `true` when deleted now, `false` when already gone (404).
    pub async fn delete_project(&self, project_ref: &str) -> Result<bool> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::DELETE,
            &["v1", "projects", project_ref],
            RetryMode::Idempotent,
        )
        .project(project_ref);
        match self.execute(&call).await {
            Ok(bytes) => {
                // The body is informative only; an odd one must not hide a done deletion.
                if let Err(e) = decode::<DeletedProject>(&call, &bytes) {
                    tracing::debug!(%e, "delete answer not understood");
                }
                Ok(true)
            }
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/projects/{ref}/pause`. Retried only when refused (429) or not sent at all.
    pub async fn pause_project(&self, project_ref: &str) -> Result<()> {
        self.project_action(project_ref, "pause").await
    }

    /// `POST /v1/projects/{ref}/restore` (unpause). Retried only when refused (429) or not sent.
    pub async fn restore_project(&self, project_ref: &str) -> Result<()> {
        self.project_action(project_ref, "restore").await
    }

    async fn project_action(&self, project_ref: &str, action: &str) -> Result<()> {
        check_ref(project_ref)?;
        let call = Call::new(
            Method::POST,
            &["v1", "projects", project_ref, action],
            RetryMode::RefusedOnly,
        )
        .project(project_ref);
        self.execute(&call).await.map(drop)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(call: &Call<'_>, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Decode {
        method: call.method.as_str().to_owned(),
        path: call.path(),
        message: e.to_string(),
        project_ref: call.project_ref.map(str::to_owned),
    })
}

pub(crate) fn check_ref(project_ref: &str) -> Result<()> {
    if project_ref.is_empty()
        || project_ref.len() > 64
        || !project_ref.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::InvalidInput(format!(
            "invalid Supabase project ref {project_ref:?}: a ref is the 20 lower-case letters in the project's URL (https://<ref>.supabase.co)"
        )));
    }
    Ok(())
}

pub(crate) fn check_slug(slug: &str) -> Result<()> {
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::InvalidInput(format!(
            "invalid Supabase organization slug {slug:?}: use the slug from the organization's dashboard URL (letters, digits, '_' and '-'); set organization_slug or SUPABASE_ORGANIZATION_SLUG"
        )));
    }
    Ok(())
}

fn validate_create(body: &CreateProjectBody) -> Result<()> {
    check_slug(&body.organization_slug)?;
    let name = &body.name;
    if name.trim().is_empty() || name.chars().count() > 256 || name.contains('.') {
        return Err(Error::InvalidInput(format!(
            "invalid Supabase project name {name:?}: use 1 to 256 characters without '.'"
        )));
    }
    if body.db_pass.expose().chars().count() < 4 {
        return Err(Error::InvalidInput(
            "the database password is too short: Supabase needs at least 4 characters".into(),
        ));
    }
    Ok(())
}
