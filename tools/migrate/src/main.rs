//! `vottery-migrate`: creates the database if asked, applies the Sngine
//! development fixture if asked, then the numbered migrations in
//! `migrations/` (forward only, each once, recorded by refinery).

use anyhow::{Context, Result};
use clap::Parser;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// Applies Vottery's database migrations.
#[derive(Debug, Parser)]
struct Cli {
    /// PostgreSQL connection string of a role that owns the database.
    #[arg(long, env = "VOTTERY_DATABASE_URL", default_value = "host=127.0.0.1 user=postgres dbname=vottery")]
    database_url: String,
    /// Create the database first when it does not exist.
    #[arg(long)]
    create: bool,
    /// Also create and seed the development stand-in for Sngine's users table.
    #[arg(long)]
    dev_fixtures: bool,
    /// Stop at this version instead of the last (for tests of a migration
    /// over data written before it).
    #[arg(long)]
    target: Option<i32>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config: tokio_postgres::Config = cli.database_url.parse().context("invalid --database-url")?;
    if cli.create {
        create_database(&config).await?;
    }
    let (mut client, connection) =
        config.connect(tokio_postgres::NoTls).await.context("cannot connect to PostgreSQL")?;
    tokio::spawn(connection);
    if cli.dev_fixtures {
        client.batch_execute(include_str!("../../../migrations/dev/sngine_users.sql")).await.context("dev fixture")?;
    }
    let mut runner = embedded::migrations::runner();
    if let Some(version) = cli.target {
        runner = runner.set_target(refinery::Target::Version(version));
    }
    let report =
        runner.run_async(&mut client).await.map_err(|e| anyhow::anyhow!("migration failed: {e}: {:?}", e.kind()))?;
    for migration in report.applied_migrations() {
        println!("applied {migration}");
    }
    println!(
        "database is at version {}",
        embedded::migrations::runner().get_last_applied_migration_async(&mut client).await?.map_or(0, |m| m.version())
    );
    Ok(())
}

async fn create_database(config: &tokio_postgres::Config) -> Result<()> {
    let name = config.get_dbname().context("the connection string names no database")?.to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(tokio_postgres::NoTls).await.context("cannot connect to PostgreSQL")?;
    tokio::spawn(connection);
    let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await?.is_some();
    if !exists {
        let quoted = name.replace('"', "\"\"");
        client
            .batch_execute(&format!("CREATE DATABASE \"{quoted}\""))
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        println!("created database {name}");
    }
    Ok(())
}
