//! `terraform-provider-stagesub`: run by Terraform; run by hand it explains itself, `--debug` serves
//! unmanaged and prints `TF_REATTACH_PROVIDERS`.

use std::sync::Arc;

use stagesub_plugin::serve::{ServeOptions, main as serve_main};
use stagesub_provider::{PROVIDER_ADDRESS, StagesubProvider};

#[tokio::main]
async fn main() {
    let code = serve_main(
        Arc::new(StagesubProvider::default()),
        ServeOptions {
            address: PROVIDER_ADDRESS.to_string(),
            name: "terraform-provider-stagesub".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
    )
    .await;
    std::process::exit(code);
}
