-- Refused calls (等保 security audit, issue 13 item 7): every refused authentication or
-- authorisation, with who, which method, why and from where. A flood is rate-limited in the
-- service: beyond the limit per minute, refusals are counted, and the next row written carries
-- the count of those left out (suppressed_before).
CREATE TABLE egov_denied_calls (
    seq               bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    subject           text NOT NULL,
    role              text NOT NULL,
    method            text NOT NULL,
    code              text NOT NULL,
    reason            text NOT NULL,
    peer              text NOT NULL,
    suppressed_before bigint NOT NULL DEFAULT 0
);
