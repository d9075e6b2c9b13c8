//! [`ProjectCache`]: the organization's project list, read once per process.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::OnceCell;

use crate::client::Client;
use crate::error::Result;
use crate::project::{Project, ProjectSummary};

/// The organization's projects, loaded with one paginated list once it pays and then served
/// from memory, so refreshing 1,000 tenants costs about 10 list calls instead of 1,000 GETs.
///
/// The first few look-ups ([`DIRECT_LOOKUPS`]) ask the API for that one project instead: a plan of
/// one tenant's root module (one root and state per tenant) then costs one call whatever the size of
/// the organization, instead of listing 10,000 projects to read one.
///
/// Concurrent first callers share one load. After a write, update the entry with
/// [`ProjectCache::upsert`] or [`ProjectCache::remove`]; a ref or name that is not in the cache
/// (created after the load) is fetched from the API and added.
#[derive(Debug)]
pub struct ProjectCache {
    client: Client,
    organization_slug: String,
    loaded: OnceCell<()>,
    entries: RwLock<Entries>,
    loads: AtomicUsize,
    /// Look-ups answered by a call for one project so far (before the list was loaded).
    direct: AtomicUsize,
    direct_limit: usize,
}

/// Look-ups a [`ProjectCache`] answers with one call each before it loads the organization's list.
pub const DIRECT_LOOKUPS: usize = 8;

#[derive(Debug, Default)]
struct Entries {
    by_ref: HashMap<String, ProjectSummary>,
    ref_by_name: HashMap<String, String>,
}

impl Entries {
    fn insert(&mut self, p: ProjectSummary) {
        if let Some(old) = self.by_ref.get(&p.project_ref)
            && old.name != p.name
        {
            self.ref_by_name.remove(&old.name);
        }
        self.ref_by_name
            .insert(p.name.clone(), p.project_ref.clone());
        self.by_ref.insert(p.project_ref.clone(), p);
    }

    fn remove(&mut self, project_ref: &str) {
        if let Some(old) = self.by_ref.remove(project_ref)
            && self.ref_by_name.get(&old.name).map(String::as_str) == Some(project_ref)
        {
            self.ref_by_name.remove(&old.name);
        }
    }
}

impl ProjectCache {
    /// A cache of `organization_slug`'s projects; nothing is loaded until first use.
    pub fn new(client: Client, organization_slug: impl Into<String>) -> Self {
        Self {
            client,
            organization_slug: organization_slug.into(),
            loaded: OnceCell::new(),
            entries: RwLock::new(Entries::default()),
            loads: AtomicUsize::new(0),
            direct: AtomicUsize::new(0),
            direct_limit: DIRECT_LOOKUPS,
        }
    }

    /// Changes how many look-ups are answered one by one before the list is loaded (default
    /// [`DIRECT_LOOKUPS`]; 0 loads the list on first use).
    pub fn with_direct_lookups(mut self, limit: usize) -> Self {
        self.direct_limit = limit;
        self
    }

    /// Whether this look-up should ask for one project instead of loading the whole list: the list
    /// is not loaded yet and few look-ups were made.
    fn look_up_directly(&self) -> bool {
        self.loaded.get().is_none()
            && self.direct.fetch_add(1, Ordering::Relaxed) < self.direct_limit
    }

    /// The project with this ref, or `None` when it does not exist.
    pub async fn get(&self, project_ref: &str) -> Result<Option<ProjectSummary>> {
        if let Some(p) = self.read().by_ref.get(project_ref) {
            return Ok(Some(p.clone()));
        }
        if !self.look_up_directly() {
            self.ensure_loaded().await?;
            if let Some(p) = self.read().by_ref.get(project_ref) {
                return Ok(Some(p.clone()));
            }
        }
        match self.client.get_project(project_ref).await? {
            Some(p)
                if p.organization_slug.is_empty()
                    || p.organization_slug == self.organization_slug =>
            {
                let summary = ProjectSummary::from(p);
                self.write().insert(summary.clone());
                Ok(Some(summary))
            }
            // Another organization's project is not one of ours.
            _ => Ok(None),
        }
    }

    /// The project with exactly this name, or `None`.
    pub async fn by_name(&self, name: &str) -> Result<Option<ProjectSummary>> {
        if let Some(p) = self.named(name) {
            return Ok(Some(p));
        }
        if !self.look_up_directly() {
            self.ensure_loaded().await?;
            if let Some(p) = self.named(name) {
                return Ok(Some(p));
            }
        }
        let found = self
            .client
            .find_project_by_name(&self.organization_slug, name)
            .await?;
        if let Some(p) = &found {
            self.write().insert(p.clone());
        }
        Ok(found)
    }

    fn named(&self, name: &str) -> Option<ProjectSummary> {
        let entries = self.read();
        entries
            .ref_by_name
            .get(name)
            .and_then(|r| entries.by_ref.get(r))
            .cloned()
    }

    /// Records a project after a write (create, status change).
    pub fn upsert(&self, project: impl Into<ProjectSummary>) {
        self.write().insert(project.into());
    }

    /// Records a project returned by the API.
    pub fn upsert_project(&self, project: &Project) {
        self.upsert(project.clone());
    }

    /// Forgets a project (after delete, or to force the next `get` to ask the API).
    pub fn remove(&self, project_ref: &str) {
        self.write().remove(project_ref);
    }

    /// Number of projects held.
    pub fn len(&self) -> usize {
        self.read().by_ref.len()
    }

    /// True when no project is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times the full list was loaded (1 after first use).
    pub fn load_count(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }

    async fn ensure_loaded(&self) -> Result<()> {
        self.loaded
            .get_or_try_init(|| async {
                self.loads.fetch_add(1, Ordering::Relaxed);
                let projects = self
                    .client
                    .list_organization_projects(&self.organization_slug)
                    .await?;
                tracing::debug!(organization = %self.organization_slug, projects = projects.len(), "project list cached");
                let mut entries = self.write();
                for p in projects {
                    // Entries written while loading are newer than the list.
                    if !entries.by_ref.contains_key(&p.project_ref) {
                        entries.insert(p);
                    }
                }
                Ok(())
            })
            .await
            .map(drop)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Client {
    /// A [`ProjectCache`] of `organization_slug` using this client.
    pub fn project_cache(&self, organization_slug: impl Into<String>) -> ProjectCache {
        ProjectCache::new(self.clone(), organization_slug)
    }
}
