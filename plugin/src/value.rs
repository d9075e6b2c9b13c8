//! Terraform values as the provider sees them: known, null or unknown, of any cty type.

use std::collections::BTreeMap;
use std::fmt;

/// A cty number. Terraform numbers are arbitrary precision; on the wire they arrive as a msgpack int,
/// a float, or a decimal string for values no machine type holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A binary floating point number.
    Float(f64),
    /// A decimal number kept as its text, for precision beyond `i64`/`f64`.
    Big(String),
}

impl Number {
    /// The number as `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }

    /// Parses a decimal string, keeping full precision when no machine type holds it.
    pub fn parse(s: &str) -> Option<Number> {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Number::Int(i));
        }
        let f: f64 = s.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        let text = canonical_decimal(s)?;
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        if f.to_string() == text {
            Some(Number::Float(f))
        } else {
            Some(Number::Big(text))
        }
    }
}

/// One spelling per decimal text, so that a number read twice compares equal however it was written:
/// no `+` sign, no leading zeros in the whole part, no trailing zeros in the fraction (nor a bare
/// `.`), a lowercase `e` with a plain exponent, and no sign on zero. The value is unchanged: the
/// exponent is kept as written (expanding `1e-999999` would cost a megabyte). `None` when the text
/// is not a decimal number (`inf`, `NaN` and hexadecimal are not cty numbers).
fn canonical_decimal(s: &str) -> Option<String> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let mut out = String::with_capacity(s.len());
    if whole.is_empty() && fraction.is_empty() {
        return Some("0".to_owned());
    }
    if negative {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    if let Some(exp) = exponent {
        let (exp_negative, exp_digits) = match exp.as_bytes().first()? {
            b'-' => (true, &exp[1..]),
            b'+' => (false, &exp[1..]),
            _ => (false, exp),
        };
        if exp_digits.is_empty() || !digits(exp_digits) {
            return None;
        }
        let exp_digits = exp_digits.trim_start_matches('0');
        if !exp_digits.is_empty() {
            out.push('e');
            if exp_negative {
                out.push('-');
            }
            out.push_str(exp_digits);
        }
    }
    Some(out)
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

/// A Terraform value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Not known until apply.
    Unknown,
    /// Absent.
    #[default]
    Null,
    /// `bool`
    Bool(bool),
    /// `number`
    Number(Number),
    /// `string`
    String(String),
    /// `list(T)` or `tuple`
    List(Vec<Value>),
    /// `set(T)`
    Set(Vec<Value>),
    /// `map(T)`
    Map(BTreeMap<String, Value>),
    /// `object({..})` and blocks
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether the value is known all the way down (no unknown inside).
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// A string value, or None for null, unknown and other kinds.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A bool value, or None.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer value, or None.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The elements of a list or set, or None.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// The attributes of an object, or None.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An attribute of an object value; Null for a missing attribute or a non-object.
    pub fn attr(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// A string attribute of an object value.
    pub fn str_attr(&self, name: &str) -> Option<&str> {
        self.attr(name).as_str()
    }

    /// Sets an attribute of an object value (no-op on other kinds).
    pub fn set_attr(&mut self, name: &str, value: impl Into<Value>) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), value.into());
        }
    }

    /// A list of strings.
    pub fn string_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}
