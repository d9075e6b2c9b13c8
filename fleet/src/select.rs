//! Which tenants run when: the canary set (named tenants or a percentage of the fleet, chosen
//! the same way on every runner) and the batches after it. Pure functions, no I/O.

use std::str::FromStr;

use crate::slice::hash;

/// `--canary`: tenants named one by one, or a share of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub enum CanarySpec {
    /// These subdomains (each must be in the fleet).
    Named(Vec<String>),
    /// This percentage of the fleet (at least one tenant when above 0), the tenants with the
    /// lowest [`hash`]: the same set on every runner and every re-run.
    Percent(f64),
}

impl FromStr for CanarySpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(number) = text.strip_suffix('%') {
            let percent: f64 = number.trim().parse().map_err(|_| {
                format!("--canary {text:?}: a percentage is written like 5% (0 to 100)")
            })?;
            if !(0.0..=100.0).contains(&percent) || percent.is_nan() {
                return Err(format!(
                    "--canary {text:?}: the percentage must be 0 to 100"
                ));
            }
            return Ok(CanarySpec::Percent(percent));
        }
        let names: Vec<String> = text
            .split(',')
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Err(
                "--canary is empty: name tenants (--canary a,b) or give a share (--canary 5%)"
                    .into(),
            );
        }
        Ok(CanarySpec::Named(names))
    }
}

/// The canary set of `fleet` (sorted as given); an error names canaries not in the fleet.
pub fn canaries(fleet: &[String], spec: &CanarySpec) -> Result<Vec<String>, String> {
    match spec {
        CanarySpec::Named(names) => {
            let unknown: Vec<&str> = names
                .iter()
                .filter(|n| !fleet.contains(n))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(format!(
                    "--canary names tenants that are not in the fleet: {}",
                    unknown.join(", ")
                ));
            }
            let mut out = names.clone();
            out.dedup();
            Ok(out)
        }
        CanarySpec::Percent(percent) => {
            if *percent <= 0.0 || fleet.is_empty() {
                return Ok(Vec::new());
            }
            let wanted = ((fleet.len() as f64) * percent / 100.0).ceil() as usize;
            let mut by_hash: Vec<&String> = fleet.iter().collect();
            by_hash.sort_by_key(|n| (hash(n), n.as_str()));
            let mut out: Vec<String> = by_hash
                .into_iter()
                .take(wanted.clamp(1, fleet.len()))
                .cloned()
                .collect();
            out.sort();
            Ok(out)
        }
    }
}

/// `rest` cut into batches of `size` (at least 1), in order.
pub fn batches(rest: &[String], size: usize) -> Vec<Vec<String>> {
    rest.chunks(size.max(1)).map(<[String]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i:04}")).collect()
    }

    #[test]
    fn a_percentage_is_at_least_one_tenant_and_stable() {
        let f = fleet(200);
        let five: CanarySpec = "5%".parse().unwrap();
        let a = canaries(&f, &five).unwrap();
        assert_eq!(a.len(), 10);
        let mut shuffled = f.clone();
        shuffled.reverse();
        assert_eq!(canaries(&shuffled, &five).unwrap(), a);
        assert_eq!(canaries(&f[..3], &five).unwrap().len(), 1);
        assert!(canaries(&f, &"0%".parse().unwrap()).unwrap().is_empty());
        assert_eq!(canaries(&f, &"100%".parse().unwrap()).unwrap().len(), 200);
    }

    #[test]
    fn named_canaries_must_exist() {
        let f = fleet(3);
        let spec: CanarySpec = "t0001, t0002".parse().unwrap();
        assert_eq!(canaries(&f, &spec).unwrap(), ["t0001", "t0002"]);
        let err = canaries(&f, &"t0001,nope".parse().unwrap()).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        assert!("".parse::<CanarySpec>().is_err());
        assert!("150%".parse::<CanarySpec>().is_err());
        assert!("x%".parse::<CanarySpec>().is_err());
    }

    #[test]
    fn batches_cover_everything_in_order() {
        let f = fleet(10);
        let b = batches(&f, 4);
        assert_eq!(b.len(), 3);
        assert_eq!(b.concat(), f);
        assert_eq!(batches(&f, 0).len(), 10);
    }
}
