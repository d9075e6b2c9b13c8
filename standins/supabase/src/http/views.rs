//! Project metadata rendered in the Management API's response shapes.

use serde_json::{Value, json};

use crate::service::Shared;
use crate::state::{Project, Status};

/// `V1ProjectResponse` (the create answer).
pub(crate) fn project(project: &Project) -> Value {
    json!({
        "id": project.project_ref,
        "ref": project.project_ref,
        "organization_id": project.organization_slug,
        "organization_slug": project.organization_slug,
        "name": project.name,
        "region": project.region,
        "created_at": project.created_at,
        "status": project.status.as_str(),
    })
}

/// `V1ProjectWithDatabaseResponse` (get and unpaginated list).
pub(crate) fn project_with_database(shared: &Shared, project: &Project) -> Value {
    let mut value = self::project(project);
    value["database"] = json!({
        "host": shared.admin.public_host,
        "version": shared.server_version,
        "postgres_engine": shared.server_version.split('.').next().unwrap_or("15"),
        "release_channel": "ga",
    });
    value
}

/// An item of `OrganizationProjectsResponse.projects`.
pub(crate) fn organization_project(project: &Project) -> Value {
    json!({
        "ref": project.project_ref,
        "name": project.name,
        "cloud_provider": "AWS",
        "region": project.region,
        "is_branch": false,
        "status": project.status.as_str(),
        "inserted_at": project.created_at,
        "databases": [{
            "infra_compute_size": project.instance_size.as_deref().unwrap_or("nano"),
            "region": project.region,
            "status": database_status(project.status),
            "cloud_provider": "AWS",
            "identifier": project.project_ref,
            "type": "PRIMARY",
        }],
    })
}

/// The database status enum is narrower than the project's: paused states have no spelling there.
fn database_status(status: Status) -> &'static str {
    match status {
        Status::ActiveHealthy
        | Status::ActiveUnhealthy
        | Status::ComingUp
        | Status::GoingDown
        | Status::InitFailed
        | Status::Removed
        | Status::Restoring
        | Status::Restarting
        | Status::Resizing => status.as_str(),
        _ => "UNKNOWN",
    }
}

/// A `SupavisorConfigResponse` entry. The stand-in has no pooler: both modes point at the real server,
/// with the project's own database and role.
pub(crate) fn pooler_entry(shared: &Shared, project: &Project, pool_mode: &str) -> Value {
    let (host, port) = (&shared.admin.public_host, shared.admin.public_port);
    let (user, database) = (project.role_name(), project.database_name());
    let url_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let connection_string =
        format!("postgresql://{user}:[YOUR-PASSWORD]@{url_host}:{port}/{database}");
    json!({
        "identifier": project.project_ref,
        "database_type": "PRIMARY",
        "is_using_scram_auth": true,
        "db_user": user,
        "db_host": host,
        "db_port": port,
        "db_name": database,
        "connection_string": connection_string,
        "connectionString": connection_string,
        "default_pool_size": 15,
        "max_client_conn": 200,
        "pool_mode": pool_mode,
    })
}
