//! The `DynamicValue` msgpack codec (`stagesub_plugin::codec`): decode -> encode -> decode gives the
//! same value.
//!
//! Input: a type drawn from the first bytes (every cty kind, nested up to depth 4, small attribute
//! names), then the msgpack bytes. Checks: never a panic; whatever decodes also encodes with the same
//! type, and the encoding decodes to an equal value (numbers compared as numbers: a whole float travels
//! as an integer, as Terraform writes it).

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stagesub_plugin::codec::{from_msgpack, to_msgpack};
use stagesub_plugin::{Number, Type, Value};

fn ty(u: &mut Unstructured<'_>, depth: u32) -> Result<Type> {
    let kinds = if depth >= 4 { 4 } else { 9 };
    Ok(match u.choose_index(kinds)? {
        0 => Type::String,
        1 => Type::Number,
        2 => Type::Bool,
        3 => Type::Dynamic,
        4 => Type::list(ty(u, depth + 1)?),
        5 => Type::set(ty(u, depth + 1)?),
        6 => Type::map(ty(u, depth + 1)?),
        7 => {
            let mut attrs = BTreeMap::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let name = ["a", "b", "id", "name"][u.choose_index(4)?];
                attrs.insert(name.to_owned(), ty(u, depth + 1)?);
            }
            Type::Object(attrs)
        }
        _ => {
            let n = u.int_in_range(0..=3)?;
            Type::Tuple((0..n).map(|_| ty(u, depth + 1)).collect::<Result<_>>()?)
        }
    })
}

/// Numbers as cty sees them: a whole float in the exact range is the integer.
fn same(a: &Value, b: &Value) -> bool {
    fn num(n: &Number) -> Number {
        match n {
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Number::Int(*f as i64),
            other => other.clone(),
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (num(x), num(y)) {
            (Number::Float(x), Number::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
            (x, y) => x == y,
        },
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        (a, b) => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(ty) = ty(&mut u, 0) else {
        return;
    };
    let bytes = u.take_rest();
    let Ok(first) = from_msgpack(bytes, &ty) else {
        return;
    };
    let encoded = to_msgpack(&first, &ty)
        .unwrap_or_else(|e| panic!("decoded {first:?} as {ty:?} but cannot encode it: {e}"));
    let second = from_msgpack(&encoded, &ty)
        .unwrap_or_else(|e| panic!("cannot decode own encoding of {first:?} as {ty:?}: {e}"));
    assert!(same(&first, &second), "{ty:?}: {first:?} became {second:?}");
});
