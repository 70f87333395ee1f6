-- Platform tables every service's database carries: outbox, inbox, timers, audit trail,
-- idempotency keys. Service migrations start at version 100.

-- Transactional outbox: written in the same transaction as the state change it announces.
CREATE TABLE egov_outbox (
    event_id        uuid PRIMARY KEY,
    routing_key     text        NOT NULL,
    payload         bytea       NOT NULL,
    -- AMQP headers to send (trace context, type); text values only.
    headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- pending → sent, or pending → dead after max attempts (an operator redrives dead → pending).
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX egov_outbox_due ON egov_outbox (next_attempt_at, created_at) WHERE status = 'pending';
CREATE INDEX egov_outbox_dead ON egov_outbox (created_at) WHERE status = 'dead';

-- Inbox: one row per consumed event per consumer, in the same transaction as its effect.
CREATE TABLE egov_inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    routing_key  text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Durable timers: rows with a due time (on the service's clock), fired once.
CREATE TABLE egov_timers (
    timer_id    uuid PRIMARY KEY,
    kind        text        NOT NULL,
    -- Business key, unique per kind among pending timers (e.g. an application id).
    key         text        NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    fired_at    timestamptz,
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text
);
CREATE UNIQUE INDEX egov_timers_pending_key ON egov_timers (kind, key) WHERE status = 'pending';
CREATE INDEX egov_timers_due ON egov_timers (due_at) WHERE status = 'pending';

-- Audit trail (R-X3): append-only, each row chained to the previous by SM3.
CREATE TABLE egov_audit (
    seq            bigint PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    role           text        NOT NULL,
    unit_id        text        NOT NULL DEFAULT '',
    action         text        NOT NULL,
    resource       text        NOT NULL,
    project_id     text        NOT NULL DEFAULT '',
    reason         text        NOT NULL DEFAULT '',
    rule_ids       text[]      NOT NULL DEFAULT '{}',
    policy_version text        NOT NULL DEFAULT '',
    request_id     text        NOT NULL DEFAULT '',
    trace_id       text        NOT NULL DEFAULT '',
    details        text        NOT NULL DEFAULT '{}',
    prev_hash      text        NOT NULL,
    hash           text        NOT NULL
);
CREATE INDEX egov_audit_project ON egov_audit (project_id, seq);

CREATE FUNCTION egov_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'egov_audit is append-only (R-X3)';
END $$;
CREATE TRIGGER egov_audit_no_update BEFORE UPDATE OR DELETE ON egov_audit
    FOR EACH ROW EXECUTE FUNCTION egov_audit_append_only();
CREATE TRIGGER egov_audit_no_truncate BEFORE TRUNCATE ON egov_audit
    FOR EACH STATEMENT EXECUTE FUNCTION egov_audit_append_only();

-- Client-supplied request ids of create calls: a repeat returns the first result.
CREATE TABLE egov_idempotency (
    scope       text        NOT NULL,
    request_id  text        NOT NULL,
    resource_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, request_id)
);
