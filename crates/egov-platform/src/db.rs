//! PostgreSQL: the pool, database creation in the local and test profiles, and migrations
//! (the platform's tables, then the service's, as one ordered list).
//!
//! Least privilege: with `database.owner_url` set, the migrations run as that owner role, which
//! then grants the runtime role (`database.url`'s user) the rows of every table and nothing else:
//! no DDL, so it can neither drop a table nor disable a trigger, and on the audit tables
//! ([`APPEND_ONLY`]) only INSERT and SELECT, so the trail cannot be rewritten by the service's
//! own credentials even with the triggers gone.

use std::time::Duration;

use sqlx::{
    PgPool,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::{DatabaseSettings, Profile};

/// The platform's own migrations (versions below 100).
pub static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The platform's migrations followed by a service's (whose versions start at 100).
pub fn combined_migrator(service: &Migrator) -> Migrator {
    let mut all: Vec<_> = PLATFORM_MIGRATIONS.iter().chain(service.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    Migrator::with_migrations(all)
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url: {0}")]
    Url(#[source] sqlx::Error),
    #[error("creating database: {0}")]
    Create(#[source] sqlx::Error),
    #[error("connecting: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migrating: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("granting the runtime role its privileges: {0}")]
    Grant(#[source] sqlx::Error),
}

impl DbError {
    /// Whether waiting may cure it: the server cannot be reached (refused, reset, timed out, no
    /// pool connection in time), or answers that it is starting, shutting down or full. A bad
    /// URL, an unknown role, refused credentials or a failed migration are not.
    pub fn is_unreachable(&self) -> bool {
        let e = match self {
            DbError::Connect(e) | DbError::Create(e) => e,
            DbError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => e,
            _ => return false,
        };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            // cannot_connect_now, admin_shutdown, too_many_connections
            sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("57P03" | "57P01" | "53300")),
            _ => false,
        }
    }
}

/// Tables the runtime role may only append to and read.
pub const APPEND_ONLY: [&str; 3] = ["egov_audit", "egov_audit_anchors", "egov_denied_calls"];

/// Connects (creating the database first where allowed) and runs the migrations: as the owner
/// role when `database.owner_url` names one (then grants the runtime role its rows), else as the
/// runtime role itself. Returns the runtime role's pool.
pub async fn connect_and_migrate(settings: &DatabaseSettings, profile: Profile, migrator: &Migrator) -> Result<PgPool, DbError> {
    let url = settings.url.expose();
    let owner = Some(settings.owner_url.expose()).filter(|o| !o.is_empty() && *o != url);
    let create_with = owner.unwrap_or(url);
    if settings.create_if_missing
        && profile != Profile::Production
        && !sqlx::Postgres::database_exists(create_with).await.map_err(DbError::Create)?
    {
        match sqlx::Postgres::create_database(create_with).await {
            Ok(()) => tracing::info!("created database"),
            // Another replica created it first.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(DbError::Create(e)),
        }
    }
    let options: PgConnectOptions = url.parse::<PgConnectOptions>().map_err(DbError::Url)?;
    if let Some(owner) = owner {
        let owner_options: PgConnectOptions = owner.parse::<PgConnectOptions>().map_err(DbError::Url)?;
        let owner_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(owner_options)
            .await
            .map_err(DbError::Connect)?;
        migrator.run(&owner_pool).await.map_err(DbError::Migrate)?;
        grant_runtime(&owner_pool, options.get_username()).await.map_err(DbError::Grant)?;
        owner_pool.close().await;
    }
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
    if owner.is_none() {
        migrator.run(&pool).await.map_err(DbError::Migrate)?;
    }
    Ok(pool)
}

/// Grants `role` the rows of every table of the schema (append and read only on
/// [`APPEND_ONLY`]) and the use of its sequences; idempotent, run after every migration.
async fn grant_runtime(owner: &PgPool, role: &str) -> Result<(), sqlx::Error> {
    let role = format!("\"{}\"", role.replace('"', "\"\""));
    let mut statements = vec![
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE ALL ON TABLE _sqlx_migrations FROM {role}"),
        format!("REVOKE CREATE ON SCHEMA public FROM {role}"),
    ];
    for t in APPEND_ONLY {
        statements.push(format!("REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON TABLE {t} FROM {role}"));
    }
    let mut tx = owner.begin().await?;
    for s in statements {
        sqlx::query(sqlx::AssertSqlSafe(s)).execute(&mut *tx).await?;
    }
    tx.commit().await
}
