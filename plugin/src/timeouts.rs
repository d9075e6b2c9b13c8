//! The `timeouts { create = "15m" ... }` block and Go-style duration strings.

use std::time::Duration;

use crate::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::value::Value;

/// Parses a Go duration such as `"15m"`, `"1h30m"`, `"90s"`, `"500ms"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{s:?} is not a duration: use a number with a unit, like \"30s\", \"15m\" or \"1h30m\""
        )
    };
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::from_secs_f64(secs);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// The `timeouts` block with the given operations (e.g. `["create", "update", "delete"]`).
pub fn block(ops: &[&str], defaults: &str) -> NestedBlock {
    let mut b = Block::new(&format!(
        "Time limits for operations, as Go durations (\"30s\", \"15m\", \"1h\"). Defaults: {defaults}."
    ));
    for op in ops {
        b = b.attribute(
            Attribute::string(op)
                .optional()
                .description(&format!(
                    "How long `{op}` may take before Terraform reports an error."
                ))
                .validate(|v| v.as_str().map_or(Ok(()), |s| parse_duration(s).map(|_| ()))),
        );
    }
    NestedBlock {
        type_name: "timeouts".into(),
        block: b,
        nesting: Nesting::Single,
        min_items: 0,
        max_items: 0,
    }
}

/// The timeout for `op` from a config/plan/state object holding a `timeouts` block, or `default`.
pub fn get(object: &Value, op: &str, default: Duration) -> Duration {
    object
        .attr("timeouts")
        .str_attr(op)
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}
