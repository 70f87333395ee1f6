//! PostgreSQL: the pool, database creation in the local and test profiles, and migrations
//! (the platform's tables, then the service's, as one ordered list).

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
}

/// Connects (creating the database first where allowed) and runs the migrations.
pub async fn connect_and_migrate(settings: &DatabaseSettings, profile: Profile, migrator: &Migrator) -> Result<PgPool, DbError> {
    let url = settings.url.expose();
    if settings.create_if_missing
        && profile != Profile::Production
        && !sqlx::Postgres::database_exists(url).await.map_err(DbError::Create)?
    {
        match sqlx::Postgres::create_database(url).await {
            Ok(()) => tracing::info!("created database"),
            // Another replica created it first.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(DbError::Create(e)),
        }
    }
    let options: PgConnectOptions = url.parse::<PgConnectOptions>().map_err(DbError::Url)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
    migrator.run(&pool).await.map_err(DbError::Migrate)?;
    Ok(pool)
}
