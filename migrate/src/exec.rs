//! Running a SQL file statement by statement, and turning a failure into `file:line:column`.

use std::time::Duration;

use tokio_postgres::Client;
use tokio_postgres::error::ErrorPosition;

use crate::error::{SqlFailure, describe};
use crate::split::{StatementSpan, line_column, position_to_offset};

/// Runs each statement of `sql` with the simple query protocol (in whatever transaction is open),
/// stopping at the first failure, which is located in the file named `file`.
pub(crate) async fn run_statements(
    client: &Client,
    file: &str,
    sql: &str,
    statements: &[StatementSpan],
) -> Result<(), Box<SqlFailure>> {
    for span in statements {
        let statement = span.text(sql);
        if let Err(error) = client.batch_execute(statement).await {
            return Err(Box::new(locate(file, sql, *span, &error)));
        }
    }
    Ok(())
}

/// Where in the file `error` (raised by the statement at `span`) points, and what it says.
pub(crate) fn locate(
    file: &str,
    sql: &str,
    span: StatementSpan,
    error: &tokio_postgres::Error,
) -> SqlFailure {
    let Some(db) = error.as_db_error() else {
        let (line, column) = line_column(sql, span.start);
        return SqlFailure {
            file: file.to_string(),
            line,
            column,
            // connection_failure: the statement may or may not have reached the server.
            sqlstate: "08006".into(),
            message: describe(error),
            detail: None,
            hint: None,
        };
    };
    let statement = span.text(sql);
    let mut message = db.message().to_string();
    let offset = match db.position() {
        Some(ErrorPosition::Original(position)) => {
            span.start + position_to_offset(statement, *position)
        }
        Some(ErrorPosition::Internal { position, query }) => {
            message.push_str(&format!(
                " (in the internal query `{query}` at character {position})"
            ));
            span.start
        }
        None => span.start,
    };
    let (line, column) = line_column(sql, offset);
    let mut detail = db.detail().map(str::to_string);
    if let Some(context) = db.where_() {
        let joined = match detail.take() {
            Some(d) => format!("{d}\nCONTEXT: {context}"),
            None => format!("CONTEXT: {context}"),
        };
        detail = Some(joined);
    }
    SqlFailure {
        file: file.to_string(),
        line,
        column,
        sqlstate: db.code().code().to_string(),
        message,
        detail,
        hint: db.hint().map(str::to_string),
    }
}

/// `SET LOCAL` lines for the timeouts of one transaction (integers only: nothing to escape).
pub(crate) fn set_local_timeouts(
    statement_timeout: Option<Duration>,
    lock_timeout: Option<Duration>,
) -> String {
    let mut sql = String::new();
    if let Some(t) = statement_timeout {
        sql.push_str(&format!("SET LOCAL statement_timeout = {};", t.as_millis()));
    }
    if let Some(t) = lock_timeout {
        sql.push_str(&format!("SET LOCAL lock_timeout = {};", t.as_millis()));
    }
    sql
}
