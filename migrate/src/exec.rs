//! Running a SQL file, and turning a failure into `file:line:column`.
//!
//! The file is sent verbatim as one simple-protocol query, so the server's own lexer decides
//! where statements end and an error `position` is a character offset in the file itself. For
//! errors without a position, the number of statements the server completed before failing
//! tells which statement of our split failed.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::{Client, SimpleQueryMessage};

use stagesub_pgconn::describe;

use crate::error::SqlFailure;
use crate::split::{StatementSpan, line_column, position_to_offset};

/// Runs `sql` (whose statements are `statements`) in whatever transaction is open; a failure is
/// located in the file named `file`.
pub(crate) async fn run_script(
    client: &Client,
    file: &str,
    sql: &str,
    statements: &[StatementSpan],
) -> Result<(), Box<SqlFailure>> {
    let mut completed = 0usize;
    let result = async {
        let mut stream = pin!(client.simple_query_raw(sql).await?);
        while let Some(message) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            if let SimpleQueryMessage::CommandComplete(_) = message? {
                completed += 1;
            }
        }
        Ok(())
    }
    .await;
    result.map_err(|error| {
        // The statement that failed is the first one the server did not complete.
        let span = statements
            .iter()
            .filter(|s| s.has_code)
            .nth(completed)
            .copied()
            .unwrap_or_default();
        Box::new(locate(file, sql, span, &error))
    })
}

/// Where in the file `error` (raised while running the statement at `span`) points, and what
/// it says. Positions are characters from the start of the file.
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
    let mut message = db.message().to_string();
    let offset = match db.position() {
        Some(ErrorPosition::Original(position)) => position_to_offset(sql, *position),
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

/// Awaits three futures together, always polling them in argument order. tokio-postgres sends a
/// request when its future is first polled, so this pipelines the three requests in this order
/// (`tokio::join!` may start with any branch).
pub(crate) async fn join3_in_order<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> (A::Output, B::Output, C::Output) {
    let (mut a, mut b, mut c) = (pin!(a), pin!(b), pin!(c));
    let (mut ra, mut rb, mut rc) = (None, None, None);
    poll_fn(|cx| {
        poll_into(a.as_mut(), &mut ra, cx);
        poll_into(b.as_mut(), &mut rb, cx);
        poll_into(c.as_mut(), &mut rc, cx);
        if ra.is_some() && rb.is_some() && rc.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    match (ra, rb, rc) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => unreachable!("poll_fn only finishes once all three are done"),
    }
}

fn poll_into<F: Future>(
    future: Pin<&mut F>,
    slot: &mut Option<F::Output>,
    cx: &mut std::task::Context<'_>,
) {
    if slot.is_none()
        && let Poll::Ready(output) = future.poll(cx)
    {
        *slot = Some(output);
    }
}
