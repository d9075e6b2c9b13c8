//! Encoding and decoding of `DynamicValue`s, and the answers for RPCs the framework does not serve.

use stagesub_tfplugin6::tfplugin6 as pb;
use tonic::{Response, Status};

use super::RpcResult;
use crate::codec;
use crate::diag::Diagnostics;
use crate::types::Type;
use crate::value::Value;

/// `value` as msgpack of type `ty`.
pub(super) fn dv(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Status> {
    let msgpack = codec::to_msgpack(value, ty)
        .map_err(|e| Status::internal(format!("encoding a value: {e}")))?;
    Ok(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

/// A request's value of type `ty` (msgpack or JSON); an absent value is null.
pub(super) fn decode(v: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Status> {
    let Some(v) = v else { return Ok(Value::Null) };
    if !v.msgpack.is_empty() {
        codec::from_msgpack(&v.msgpack, ty)
            .map_err(|e| Status::invalid_argument(format!("decoding msgpack: {e}")))
    } else if !v.json.is_empty() {
        codec::from_json(&v.json, ty)
            .map_err(|e| Status::invalid_argument(format!("decoding JSON: {e}")))
    } else {
        Ok(Value::Null)
    }
}

/// A response holding only diagnostics, built by `f`.
pub(super) fn resp_diags<T>(
    diags: &Diagnostics,
    f: impl FnOnce(Vec<pb::Diagnostic>) -> T,
) -> RpcResult<T> {
    Ok(Response::new(f(diags.to_proto())))
}

/// Methods answering `Unimplemented` for RPCs the framework does not serve.
macro_rules! unimplemented_rpcs {
    ($($name:ident($req:ty) -> $resp:ty;)*) => {
        $(
            // Written out as async_trait would expand it: attribute macros do not see inside macro_rules.
            fn $name<'life0, 'async_trait>(
                &'life0 self,
                _request: Request<$req>,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = RpcResult<$resp>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    Err(Status::unimplemented(concat!(stringify!($name), " is not supported by this provider")))
                })
            }
        )*
    };
}

pub(super) use unimplemented_rpcs;
