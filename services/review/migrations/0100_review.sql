-- Review's own tables. (Platform tables: versions below 100.)

-- The case aggregate: queried columns and the whole value as JSON.
CREATE TABLE review_cases (
    case_id        uuid PRIMARY KEY,
    lead_unit_id   text        NOT NULL,
    participating  text[]      NOT NULL DEFAULT '{}',
    stage          text        NOT NULL,
    policy_version text        NOT NULL,
    version        bigint      NOT NULL,
    opened_at      timestamptz NOT NULL,
    body           jsonb       NOT NULL
);
CREATE INDEX review_cases_stage ON review_cases (stage, case_id);
CREATE INDEX review_cases_unit ON review_cases (lead_unit_id, case_id);

-- Workflow tasks.
CREATE TABLE review_tasks (
    task_id      uuid PRIMARY KEY,
    case_id      uuid        NOT NULL REFERENCES review_cases (case_id),
    kind         text        NOT NULL,
    group_id     text        NOT NULL,
    role         text        NOT NULL,
    assignee     text,
    state        text        NOT NULL,
    due_at       timestamptz NOT NULL,
    overdue      boolean     NOT NULL DEFAULT false,
    completed_by text        NOT NULL DEFAULT '',
    completed_at timestamptz,
    comment      text        NOT NULL DEFAULT '',
    version      bigint      NOT NULL
);
CREATE INDEX review_tasks_case ON review_tasks (case_id, group_id);
CREATE INDEX review_tasks_role ON review_tasks (role, state, task_id);
