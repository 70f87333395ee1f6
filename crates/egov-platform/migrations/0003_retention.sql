-- Retention (housekeeping.rs): sent outbox events and finished timers are deleted in small
-- batches, oldest first, once older than their retention. Inbox rows are kept: they are the
-- idempotency record.
CREATE INDEX egov_outbox_sent ON egov_outbox (sent_at) WHERE status = 'sent';

-- When a timer was cancelled (real time), so that its retention runs from then.
ALTER TABLE egov_timers ADD COLUMN cancelled_at timestamptz;
CREATE INDEX egov_timers_finished ON egov_timers ((coalesce(fired_at, cancelled_at, created_at))) WHERE status <> 'pending';
