//! The classic Prometheus text format (0.0.4) from the OpenMetrics text that `prometheus-client`
//! writes, for scrapers that do not ask for OpenMetrics (curl, older tools). The two differ only in
//! what this rewrites: a counter family is named with its `_total` suffix in `# HELP`/`# TYPE`, and
//! there are no `# UNIT` or `# EOF` lines. Samples, labels and escapes are the same.

use std::collections::HashSet;

/// Content type of the classic text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites OpenMetrics text into the classic text format.
pub fn from_openmetrics(text: &str) -> String {
    let counters: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(name) {
                    "_total"
                } else {
                    ""
                };
                out.push_str(&format!("{prefix}{name}{suffix} {tail}"));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// True when the `Accept` header asks for OpenMetrics (as Prometheus does).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_total_and_eof_goes() {
        let om = "# HELP a_events Events.\n# TYPE a_events counter\na_events_total{t=\"x\"} 1\n\
                  # HELP a_up Up.\n# TYPE a_up gauge\na_up 1\n# EOF\n";
        assert_eq!(
            from_openmetrics(om),
            "# HELP a_events_total Events.\n# TYPE a_events_total counter\n\
             a_events_total{t=\"x\"} 1\n# HELP a_up Up.\n# TYPE a_up gauge\na_up 1\n"
        );
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        )));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }
}
