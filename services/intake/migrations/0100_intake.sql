-- Intake's own tables. (Platform tables: versions below 100.)

CREATE TABLE units (
    unit_id                text PRIMARY KEY,
    name                   text        NOT NULL,
    district_budget_unit   boolean     NOT NULL,
    state_owned_enterprise boolean     NOT NULL,
    runs_platform          boolean     NOT NULL,
    has_street_app         boolean     NOT NULL,
    version                bigint      NOT NULL,
    created_at             timestamptz NOT NULL
);

CREATE TABLE rounds (
    round_id       uuid PRIMARY KEY,
    target_year    integer     NOT NULL,
    deadline       date        NOT NULL,
    state          text        NOT NULL,
    policy_version text        NOT NULL,
    version        bigint      NOT NULL,
    opened_at      timestamptz NOT NULL,
    closed_at      timestamptz
);
-- One open round per target year, even under concurrent OpenRound calls.
CREATE UNIQUE INDEX rounds_one_open ON rounds (target_year) WHERE state = 'OPEN';

CREATE TABLE penalties (
    penalty_id      uuid PRIMARY KEY,
    unit_id         text        NOT NULL REFERENCES units (unit_id),
    kind            text        NOT NULL,
    reason          text        NOT NULL,
    project_id      text        NOT NULL,
    went_live_on    date,
    stopped_on      date,
    ineligible_year integer,
    rule_ids        text[]      NOT NULL,
    policy_version  text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX penalties_unit ON penalties (unit_id, recorded_at);

-- The application aggregate: queried columns, and the whole value as JSON.
CREATE TABLE applications (
    application_id uuid PRIMARY KEY,
    lead_unit_id   text        NOT NULL REFERENCES units (unit_id),
    round_id       uuid REFERENCES rounds (round_id),
    state          text        NOT NULL,
    name           text        NOT NULL,
    policy_version text        NOT NULL,
    version        bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    body           jsonb       NOT NULL
);
CREATE INDEX applications_unit ON applications (lead_unit_id, application_id);
CREATE INDEX applications_round ON applications (round_id, application_id);
CREATE INDEX applications_state ON applications (state, application_id);
CREATE INDEX applications_participants ON applications USING gin ((body -> 'draft' -> 'participating_unit_ids'));

CREATE TABLE documents (
    document_id    uuid PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications (application_id),
    kind           text        NOT NULL,
    file_name      text        NOT NULL,
    content_type   text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    sha256         text        NOT NULL,
    sm3            text        NOT NULL,
    street         text        NOT NULL,
    object_path    text        NOT NULL,
    uploaded_by    text        NOT NULL,
    uploaded_at    timestamptz NOT NULL
);
CREATE INDEX documents_application ON documents (application_id, uploaded_at);

-- The project registry: one row per project (the application id), its latest status.
CREATE TABLE projects (
    project_id        uuid PRIMARY KEY,
    name              text        NOT NULL,
    lead_unit_id      text        NOT NULL,
    participating     text[]      NOT NULL DEFAULT '{}',
    status            text        NOT NULL,
    status_at         timestamptz NOT NULL
);
CREATE INDEX projects_unit ON projects (lead_unit_id, project_id);

-- The cross-service timeline, one row per egov event about a project.
CREATE TABLE timeline (
    event_id    uuid PRIMARY KEY,
    project_id  uuid        NOT NULL,
    event_type  text        NOT NULL,
    producer    text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    status      text        NOT NULL,
    summary     text        NOT NULL
);
CREATE INDEX timeline_project ON timeline (project_id, occurred_at);
