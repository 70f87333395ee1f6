-- A failing timer handler is retried with backoff (in real time), not on every poll.
ALTER TABLE egov_timers ADD COLUMN retry_at timestamptz;
