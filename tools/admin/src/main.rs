//! `vottery-admin`: the operator's commands, run against the database as a
//! role that owns it (never a public route). The member is found by their
//! email through its blind index (the `contact_pepper` of the app), so no
//! contact is read in clear. Every change writes its audit row in the same
//! statement (actor `system`, `"by": "vottery-admin"`).
//!
//! ```text
//! vottery-admin grant  --email ada@example.com --role user_admin
//! vottery-admin revoke --email ada@example.com --role user_admin
//! vottery-admin prune-activity --days 180
//! vottery-admin audit verify
//! ```

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use vottery_policy::Role;
use vottery_validate::Email;

mod audit;

#[derive(Debug, Parser)]
struct Cli {
    /// PostgreSQL connection string of a role that owns the database.
    #[arg(long, env = "VOTTERY_DATABASE_URL", default_value = "host=127.0.0.1 user=postgres dbname=vottery")]
    database_url: String,
    /// The app's `contact_pepper` (the blind indexes' key); needed by
    /// `grant` and `revoke`.
    #[arg(long, env = "SPIN_VARIABLE_CONTACT_PEPPER", hide_env_values = true, default_value = "")]
    contact_pepper: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Grants a role to the member with this email (the first
    /// administrator: `--role user_admin`).
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Revokes a member's role (never the last `user_admin`).
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Deletes the activity members reported that was received more than
    /// `--days` days ago (the retention period; run it daily).
    PruneActivity {
        #[arg(long, default_value_t = 180)]
        days: i32,
    },
    /// Checks the audit log: every stream's chain, every checkpoint's
    /// signature and root, and that no checkpointed row was altered or
    /// removed; names the first fault and exits with 1 if there is one.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    Verify,
}

const PRUNE: &str = "WITH d AS (DELETE FROM users.activity WHERE received_at < now() - make_interval(days => $1) \
         RETURNING 1) \
     SELECT count(*), audit.append('system', 'activity.pruned', 'users.activity', 'ok', \
         jsonb_build_object('days', $1, 'deleted', count(*), 'by', 'vottery-admin'))::text FROM d";

const GRANT: &str = "WITH a AS (SELECT id FROM users.accounts WHERE email_index = $1), \
     g AS (INSERT INTO users.role_grants (user_id, role) SELECT id, $2 FROM a \
         ON CONFLICT (user_id, role) WHERE revoked_at IS NULL \
         DO UPDATE SET granted_by = NULL, granted_at = now(), expires_at = NULL RETURNING user_id) \
     SELECT g.user_id::text, audit.append('system', 'role.granted', g.user_id::text, 'ok', \
         jsonb_build_object('role', $2::text, 'by', 'vottery-admin')) FROM g";

const REVOKE: &str = "WITH a AS (SELECT id FROM users.accounts WHERE email_index = $1), \
     live AS (SELECT id FROM users.role_grants WHERE role = $2 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE), \
     holders AS (SELECT count(*) AS n FROM live), \
     r AS (UPDATE users.role_grants SET revoked_at = now() WHERE user_id = (SELECT id FROM a) AND role = $2 \
         AND revoked_at IS NULL AND ($2 <> 'user_admin' OR (SELECT n FROM holders) > 1) RETURNING user_id) \
     SELECT r.user_id::text, audit.append('system', 'role.revoked', r.user_id::text, 'ok', \
         jsonb_build_object('role', $2::text, 'by', 'vottery-admin')) FROM r";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config: tokio_postgres::Config = cli.database_url.parse().context("invalid --database-url")?;
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.context("cannot connect to PostgreSQL")?;
    tokio::spawn(connection);
    if let Command::Audit(AuditCommand::Verify) = cli.command {
        let started = std::time::Instant::now();
        let report = audit::verify(&client).await?;
        println!(
            "{} rows in {} streams (and the rows before them), {} checkpoints, checked in {:.2} s",
            report.rows,
            report.streams,
            report.checkpoints,
            started.elapsed().as_secs_f64()
        );
        return match report.first_fault {
            None => {
                println!("the audit log holds");
                Ok(())
            }
            Some(fault) => bail!("the audit log does not hold: {fault}"),
        };
    }
    if let Command::PruneActivity { days } = cli.command {
        if days < 1 {
            bail!("--days is at least 1");
        }
        let row = client.query_one(PRUNE, &[&days]).await.context("the pruning failed")?;
        let deleted: i64 = row.get(0);
        println!("deleted {deleted} activity reports received more than {days} days ago");
        return Ok(());
    }
    if cli.contact_pepper.len() < 32 {
        bail!("the contact pepper must be at least 32 bytes (SPIN_VARIABLE_CONTACT_PEPPER, as the app has it)");
    }
    let (email, role, sql, verb) = match &cli.command {
        Command::Grant { email, role } => (email, role, GRANT, "granted"),
        Command::Revoke { email, role } => (email, role, REVOKE, "revoked"),
        Command::PruneActivity { .. } | Command::Audit(_) => return Ok(()),
    };
    let role = grantable(role)?;
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let index = vottery_crypto_core::digest::blind_index(cli.contact_pepper.as_bytes(), "email", email.as_str());
    let rows = client.query(sql, &[&index.as_slice(), &role.as_str()]).await.context("the change failed")?;
    let Some(row) = rows.first() else {
        bail!(
            "nothing {verb}: no member with that email, no such grant to revoke, or the last user_admin \
             (a member exists once they passed step 2)"
        );
    };
    let user_id: String = row.get(0);
    println!("{verb} {} for member {user_id}", role.as_str());
    Ok(())
}

fn grantable(name: &str) -> Result<Role> {
    match Role::parse(name) {
        Some(Role::Member) => bail!("`member` is every member's; it is neither granted nor revoked"),
        Some(role) => Ok(role),
        None => {
            let names: Vec<&str> = Role::ALL.iter().skip(1).map(|r| r.as_str()).collect();
            bail!("`{name}` is not a role: one of {}", names.join(", "))
        }
    }
}
