//! Prints the check verdict for an HTML file as JSON:
//! `cargo run -p harness --example check_page -- fixtures/pages/websocket.html`.

use std::time::Duration;

use harness::check::{check, CheckOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: check_page PAGE.html")?;
    let page = std::fs::read(&path)?;
    let options = CheckOptions {
        timeout: Duration::from_secs(5),
        watch: Duration::from_secs(2),
        ..CheckOptions::default()
    };
    let verdict = check(&page, Vec::new(), &options).await?;
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(())
}
