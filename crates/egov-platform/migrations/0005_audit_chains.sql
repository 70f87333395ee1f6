-- Audit chains per project (R-X3, issue 9). Each project's records form a chain of their own
-- (`chain` = the project id; '' for records about no project: the service's own chain), so that
-- writes of different projects never wait for each other; within a chain the order stays total
-- (`chain_seq` 1, 2, ...). Records written before this migration keep their one chain in `seq`
-- order (`chain` NULL: the legacy segment), which the first anchor seals as the chain '#legacy'.
ALTER TABLE egov_audit ADD COLUMN chain text;
ALTER TABLE egov_audit ADD COLUMN chain_seq bigint;
CREATE UNIQUE INDEX egov_audit_chain ON egov_audit (chain, chain_seq) WHERE chain IS NOT NULL;
-- `seq` orders the service's records for listing; gaps are harmless (chains are checked by chain_seq).
CREATE SEQUENCE egov_audit_seq OWNED BY egov_audit.seq;
SELECT setval('egov_audit_seq', COALESCE((SELECT max(seq) FROM egov_audit), 0) + 1, false);
ALTER TABLE egov_audit ALTER COLUMN seq SET DEFAULT nextval('egov_audit_seq');

-- The head of every chain: the row its writers lock (so one chain's writers queue and no other
-- chain's do), and what the next anchor seals. Evidence is in the anchors, not here.
CREATE TABLE egov_audit_heads (
    chain     text    PRIMARY KEY,
    chain_seq bigint  NOT NULL,
    hash      text    NOT NULL
);
-- How far the anchors sealed each chain: written by the anchoring replica only, so that sealing
-- never locks a head a writer needs.
CREATE TABLE egov_audit_sealed (
    chain     text    PRIMARY KEY,
    chain_seq bigint  NOT NULL
);
INSERT INTO egov_audit_heads (chain, chain_seq, hash)
    SELECT '#legacy', seq, hash FROM egov_audit ORDER BY seq DESC LIMIT 1;

-- Anchors: the heads of every chain that moved, sealed periodically into a record chained to the
-- previous anchor by SM3 and signed with the service's SM2 key. Append-only like the trail.
CREATE TABLE egov_audit_anchors (
    anchor_seq bigint      PRIMARY KEY,
    at         timestamptz NOT NULL,
    -- JSON [[chain, chain_seq, hash], ...] sorted by chain: exactly the text that was hashed.
    heads      text        NOT NULL,
    prev_hash  text        NOT NULL,
    hash       text        NOT NULL,
    key_id     text        NOT NULL,
    -- SEC1 (uncompressed, hex) public key of the signer; verification trusts only configured keys.
    public_key text        NOT NULL,
    -- SM2 signature (r || s, hex) of the hash.
    signature  text        NOT NULL
);
CREATE TRIGGER egov_audit_anchors_no_update BEFORE UPDATE OR DELETE ON egov_audit_anchors
    FOR EACH ROW EXECUTE FUNCTION egov_audit_append_only();
CREATE TRIGGER egov_audit_anchors_no_truncate BEFORE TRUNCATE ON egov_audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION egov_audit_append_only();

-- One row the anchoring replicas claim with FOR UPDATE SKIP LOCKED: one anchors, others skip.
CREATE TABLE egov_audit_anchoring (id integer PRIMARY KEY, last_at timestamptz);
INSERT INTO egov_audit_anchoring (id) VALUES (1);
