-- DRB's random inspection draws (抽查, R-P7): the pool, the seed and the drawn projects, recorded.
CREATE TABLE inspection_draws (
    draw_id  uuid PRIMARY KEY,
    drawn_at timestamptz NOT NULL,
    body     jsonb       NOT NULL
);
