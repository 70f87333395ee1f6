-- Acceptance's own tables. (Platform tables: versions below 100.)
-- One case per project (same id): the case is stored whole (body) beside the columns it is
-- queried by; updates are version-guarded.
CREATE TABLE acceptance_cases (
    project_id   uuid PRIMARY KEY,
    lead_unit_id text        NOT NULL,
    participating_unit_ids text[] NOT NULL DEFAULT '{}',
    state        text        NOT NULL,
    version      bigint      NOT NULL,
    opened_at    timestamptz NOT NULL,
    body         jsonb       NOT NULL
);
CREATE INDEX acceptance_cases_unit ON acceptance_cases (lead_unit_id, project_id);
CREATE INDEX acceptance_cases_state ON acceptance_cases (state, project_id);
-- Which case holds a filed material (downloads name the document only).
CREATE TABLE acceptance_materials (
    document_id uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES acceptance_cases (project_id)
);
