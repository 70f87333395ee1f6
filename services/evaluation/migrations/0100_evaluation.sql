-- Evaluation's tables (the platform's egov_* tables come first).

-- Every change of a catalogue entry takes the next revision: screening rebuilds its in-memory
-- index when the highest revision moved (on any replica).
CREATE SEQUENCE entries_revision;

-- Catalogue entries (R-E1) with their operation record (R-E2 … R-E8) in `body`; the columns are
-- what lists and screening query.
CREATE TABLE entries (
    entry_id         uuid PRIMARY KEY,
    kind             text NOT NULL,
    state            text NOT NULL,
    name             text NOT NULL,
    source           text NOT NULL,
    external_key     text,
    project_id       text NOT NULL DEFAULT '',
    builder_unit_id  text NOT NULL,
    operator_unit_id text NOT NULL,
    user_unit_ids    text[] NOT NULL DEFAULT '{}',
    next_due_on      date,
    revision         bigint NOT NULL DEFAULT nextval('entries_revision'),
    policy_version   text NOT NULL,
    version          bigint NOT NULL,
    body             jsonb NOT NULL
);
CREATE UNIQUE INDEX entries_external_key ON entries (source, external_key) WHERE external_key IS NOT NULL;
CREATE INDEX entries_kind_state ON entries (kind, state);
CREATE INDEX entries_next_due ON entries (next_due_on) WHERE next_due_on IS NOT NULL;
CREATE INDEX entries_units ON entries USING gin ((ARRAY[builder_unit_id, operator_unit_id] || user_unit_ids));

-- Published evaluation results (R-E2: 公布), readable by every government role.
CREATE TABLE published_evaluations (
    evaluation_id    uuid PRIMARY KEY,
    app_id           uuid NOT NULL REFERENCES entries (entry_id),
    name             text NOT NULL,
    operator_unit_id text NOT NULL,
    published_on     date NOT NULL,
    score_centi      bigint NOT NULL,
    grade            text NOT NULL,
    passed           boolean NOT NULL,
    funding_recommendation text NOT NULL,
    funding_bp       integer NOT NULL,
    indicator_system text NOT NULL
);
CREATE INDEX published_evaluations_app ON published_evaluations (app_id, published_on DESC);

-- DRB's catalogue imports: the stored file (R-X1) and what it did.
CREATE TABLE catalogue_imports (
    import_id     uuid PRIMARY KEY,
    file_name     text NOT NULL,
    format        text NOT NULL,
    path          text NOT NULL,
    size_bytes    bigint NOT NULL,
    sha256        text NOT NULL,
    sm3           text NOT NULL,
    uploaded_by   text NOT NULL,
    uploaded_at   timestamptz NOT NULL,
    created       integer NOT NULL,
    updated       integer NOT NULL,
    unchanged     integer NOT NULL,
    errors        jsonb NOT NULL
);
