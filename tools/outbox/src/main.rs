//! `vottery-outbox`: serves the provider stand-ins on loopback.

use anyhow::{Context, Result};
use clap::Parser;
use vottery_outbox::{Credentials, Outbox};

/// Twilio, SendGrid, Postmark, Mailgun and Resend on one loopback port,
/// with the messages shown at `/` and `/messages`.
#[derive(Debug, Parser)]
struct Cli {
    #[arg(long, env = "OUTBOX_LISTEN", default_value = "127.0.0.1:3025")]
    listen: String,
    #[command(flatten)]
    credentials: Credentials,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let listener =
        tokio::net::TcpListener::bind(&cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    println!("outbox serving on http://{}", listener.local_addr()?);
    vottery_outbox::serve(listener, Outbox::new(cli.credentials)).await
}
