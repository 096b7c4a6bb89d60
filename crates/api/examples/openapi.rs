//! Prints the merged OpenAPI document (`GET /openapi.json`), or with `--partners-yaml` the
//! partners document as YAML, so `scripts/test` can validate what the server serves.

fn main() {
    let text = if std::env::args().any(|a| a == "--partners-yaml") {
        partnerd_api::openapi::partners_yaml()
    } else {
        partnerd_api::openapi::document_json()
    };
    println!("{text}");
}
