-- Procurement's own tables. (Platform tables: versions below 100.)
CREATE TABLE procurement_cases (
    project_id   uuid PRIMARY KEY,
    lead_unit_id text        NOT NULL,
    state        text        NOT NULL,
    version      bigint      NOT NULL,
    opened_at    timestamptz NOT NULL,
    body         jsonb       NOT NULL
);
CREATE INDEX procurement_cases_unit ON procurement_cases (lead_unit_id, project_id);
CREATE INDEX procurement_cases_state ON procurement_cases (state, project_id);
