-- The expert pool and expert review meetings (R-R2).
CREATE TABLE experts (
    expert_id   text PRIMARY KEY,
    name        text    NOT NULL,
    specialties text[]  NOT NULL,
    affiliation text    NOT NULL,
    available   boolean NOT NULL,
    version     bigint  NOT NULL
);

-- A meeting: its date, needs, cases, seed, panel and scores as one aggregate.
CREATE TABLE expert_meetings (
    meeting_id uuid PRIMARY KEY,
    held_on    date        NOT NULL,
    version    bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    body       jsonb       NOT NULL
);
