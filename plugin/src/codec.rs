//! The `DynamicValue` codec: Terraform values <-> msgpack and JSON, guided by the schema's type.
//!
//! Facts from Terraform's `object-wire-format.md`: objects are maps keyed by every attribute name;
//! null is nil; numbers arrive as int, float or decimal string; unknown is a msgpack extension (type 0,
//! or 12 for "refined" unknowns, whose refinements we ignore); `dynamic` is `[json type, value]`.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use crate::types::Type;
use crate::value::{Number, Value};

/// A value that does not match the type it was decoded or encoded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

fn err<T>(msg: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError(msg.into()))
}

/// Decodes msgpack bytes of type `ty`.
pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut rd = bytes;
    let mp = rmpv::decode::read_value(&mut rd)
        .map_err(|e| CodecError(format!("invalid msgpack: {e}")))?;
    from_mp(&mp, ty)
}

/// Encodes `value` of type `ty` as msgpack.
pub fn to_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mp = to_mp(value, ty)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp)
        .map_err(|e| CodecError(format!("msgpack encoding failed: {e}")))?;
    Ok(out)
}

/// Decodes JSON bytes of type `ty` (used for raw states; JSON has no unknowns).
pub fn from_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let j: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| CodecError(format!("invalid JSON: {e}")))?;
    from_json_value(&j, ty)
}

fn from_mp(mp: &Mp, ty: &Type) -> Result<Value, CodecError> {
    if let Mp::Ext(_, _) = mp {
        return Ok(Value::Unknown);
    }
    if let Mp::Nil = mp {
        return Ok(Value::Null);
    }
    match ty {
        Type::String => match mp {
            Mp::String(s) => s
                .as_str()
                .map(|s| Value::String(s.to_string()))
                .ok_or(())
                .or_else(|()| err("string is not UTF-8")),
            other => err(format!("expected a string, got {other}")),
        },
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(*b)),
            other => err(format!("expected a bool, got {other}")),
        },
        Type::Number => match mp {
            Mp::Integer(i) => match i.as_i64() {
                Some(v) => Ok(Value::Number(Number::Int(v))),
                None => Ok(Value::Number(Number::Big(i.to_string()))),
            },
            Mp::F32(f) => Ok(Value::Number(Number::Float(f64::from(*f)))),
            Mp::F64(f) => Ok(Value::Number(Number::Float(*f))),
            Mp::String(s) => {
                let text = s.as_str().unwrap_or_default();
                Number::parse(text)
                    .map(Value::Number)
                    .ok_or(())
                    .or_else(|()| err(format!("invalid number {text:?}")))
            }
            other => err(format!("expected a number, got {other}")),
        },
        Type::List(elem) | Type::Set(elem) => {
            let Mp::Array(items) = mp else {
                return err(format!("expected a list, got {mp}"));
            };
            let vals = items
                .iter()
                .map(|i| from_mp(i, elem))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(vals)
            } else {
                Value::List(vals)
            })
        }
        Type::Tuple(elems) => {
            let Mp::Array(items) = mp else {
                return err(format!("expected a tuple, got {mp}"));
            };
            if items.len() != elems.len() {
                return err(format!(
                    "tuple needs {} elements, got {}",
                    elems.len(),
                    items.len()
                ));
            }
            Ok(Value::List(
                items
                    .iter()
                    .zip(elems)
                    .map(|(i, t)| from_mp(i, t))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Map(elem) => {
            let Mp::Map(entries) = mp else {
                return err(format!("expected a map, got {mp}"));
            };
            let mut m = BTreeMap::new();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or(CodecError("map key is not a string".into()))?;
                m.insert(key.to_string(), from_mp(v, elem)?);
            }
            Ok(Value::Map(m))
        }
        Type::Object(attrs) => {
            let Mp::Map(entries) = mp else {
                return err(format!("expected an object, got {mp}"));
            };
            let mut m: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or(CodecError("object key is not a string".into()))?;
                // Attributes the schema does not know are dropped: they come from an older schema.
                if let Some(t) = attrs.get(key) {
                    m.insert(key.to_string(), from_mp(v, t)?);
                }
            }
            Ok(Value::Object(m))
        }
        Type::Dynamic => {
            let Mp::Array(parts) = mp else {
                return err(format!("expected a [type, value] pair, got {mp}"));
            };
            if parts.len() != 2 {
                return err("dynamic value needs exactly [type, value]");
            }
            let type_bytes: &[u8] = match &parts[0] {
                Mp::Binary(b) => b,
                Mp::String(s) => s.as_bytes(),
                other => return err(format!("dynamic type must be JSON bytes, got {other}")),
            };
            let tj: serde_json::Value = serde_json::from_slice(type_bytes)
                .map_err(|e| CodecError(format!("invalid dynamic type: {e}")))?;
            let inner = Type::from_json(&tj).map_err(CodecError)?;
            from_mp(&parts[1], &inner)
        }
    }
}

/// msgpack fixext1 with type 0 and a zero byte: what Terraform itself writes for an unknown value.
fn unknown_mp() -> Mp {
    Mp::Ext(0, vec![0])
}

fn to_mp(value: &Value, ty: &Type) -> Result<Mp, CodecError> {
    match value {
        Value::Unknown => return Ok(unknown_mp()),
        Value::Null => return Ok(Mp::Nil),
        _ => {}
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (Type::Number, Value::Number(n)) => Ok(match n {
            Number::Int(i) => Mp::from(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Mp::from(*f as i64),
            Number::Float(f) => Mp::F64(*f),
            // Like go-cty: a whole number that fits uint64 travels as one, exactly; only numbers
            // beyond every machine type go as decimal text.
            Number::Big(s) => s
                .parse::<u64>()
                .map_or_else(|_| Mp::from(s.as_str()), Mp::from),
        }),
        (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            Ok(Mp::Array(
                items
                    .iter()
                    .map(|i| to_mp(i, elem))
                    .collect::<Result<_, _>>()?,
            ))
        }
        (Type::Tuple(elems), Value::List(items)) if elems.len() == items.len() => Ok(Mp::Array(
            items
                .iter()
                .zip(elems)
                .map(|(i, t)| to_mp(i, t))
                .collect::<Result<_, _>>()?,
        )),
        (Type::Map(elem), Value::Map(m) | Value::Object(m)) => Ok(Mp::Map(
            m.iter()
                .map(|(k, v)| Ok((Mp::from(k.as_str()), to_mp(v, elem)?)))
                .collect::<Result<_, CodecError>>()?,
        )),
        (Type::Object(attrs), Value::Object(m)) => {
            let mut entries = Vec::with_capacity(attrs.len());
            for (name, t) in attrs {
                let v = m.get(name).unwrap_or(&Value::Null);
                entries.push((Mp::from(name.as_str()), to_mp(v, t)?));
            }
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return err(format!("attribute {extra:?} is not in the schema"));
            }
            Ok(Mp::Map(entries))
        }
        (Type::Dynamic, v) => {
            let inferred = infer_type(v);
            Ok(Mp::Array(vec![
                Mp::Binary(inferred.to_json_bytes()),
                to_mp(v, &inferred)?,
            ]))
        }
        (t, v) => err(format!("value {v:?} does not match type {}", t.to_json())),
    }
}

/// The most specific type for a known value; used when a `dynamic` value must name its type.
fn infer_type(v: &Value) -> Type {
    match v {
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::Tuple(items.iter().map(infer_type).collect()),
        Value::Set(items) => Type::set(common_type(items)),
        Value::Map(m) => Type::map(common_type(m.values())),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect())
        }
        Value::Null | Value::Unknown => Type::Dynamic,
    }
}

/// The element type of a set or map: the type all its known, non-null elements share, else `dynamic`
/// (each element then travels with its own type).
fn common_type<'a>(items: impl IntoIterator<Item = &'a Value>) -> Type {
    let mut types = items
        .into_iter()
        .filter(|v| !v.is_null() && !v.is_unknown())
        .map(infer_type);
    match types.next() {
        Some(first) if types.all(|t| t == first) => first,
        _ => Type::Dynamic,
    }
}

fn from_json_value(j: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if j.is_null() {
        return Ok(Value::Null);
    }
    match (ty, j) {
        (Type::String, J::String(s)) => Ok(Value::String(s.clone())),
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Number, J::Number(n)) => Number::parse(&n.to_string())
            .map(Value::Number)
            .ok_or(())
            .or_else(|()| err(format!("invalid number {n}"))),
        (Type::Number, J::String(s)) => Number::parse(s)
            .map(Value::Number)
            .ok_or(())
            .or_else(|()| err(format!("invalid number {s:?}"))),
        (Type::List(e) | Type::Set(e), J::Array(items)) => {
            let vals = items
                .iter()
                .map(|i| from_json_value(i, e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(vals)
            } else {
                Value::List(vals)
            })
        }
        (Type::Tuple(elems), J::Array(items)) if elems.len() == items.len() => Ok(Value::List(
            items
                .iter()
                .zip(elems)
                .map(|(i, t)| from_json_value(i, t))
                .collect::<Result<_, _>>()?,
        )),
        (Type::Map(e), J::Object(m)) => Ok(Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), from_json_value(v, e)?)))
                .collect::<Result<_, CodecError>>()?,
        )),
        (Type::Object(attrs), J::Object(m)) => {
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                out.insert(
                    name.clone(),
                    m.get(name)
                        .map_or(Ok(Value::Null), |v| from_json_value(v, t))?,
                );
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, J::Object(m)) if m.contains_key("type") && m.contains_key("value") => {
            let t = Type::from_json(&m["type"]).map_err(CodecError)?;
            from_json_value(&m["value"], &t)
        }
        (t, v) => err(format!("JSON {v} does not match type {}", t.to_json())),
    }
}

#[cfg(test)]
mod tests;
