-- Steward store, PostgreSQL schema v1. Migrations are added, never edited.
-- Times are BIGINT unix milliseconds; JSON values are TEXT; booleans are BIGINT 0/1.
-- Column names and types mirror migrations/sqlite/0001_init.sql so that one SQL text
-- serves both backends.

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    state             TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    thread_key        TEXT NOT NULL,
    topics            TEXT NOT NULL,
    policy_version    TEXT NOT NULL,
    owner             TEXT,
    responders        TEXT NOT NULL,
    loop_ins          TEXT NOT NULL,
    opened_by         TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    due_at            BIGINT,
    remind_at         BIGINT,
    first_response_at BIGINT,
    reminded_at       BIGINT,
    breached_at       BIGINT,
    closed_at         BIGINT,
    close_reason      TEXT
);
-- At most one open case per thread: a second escalation of the thread joins it.
CREATE UNIQUE INDEX cases_open_thread ON cases (thread_key) WHERE state = 'open';
CREATE INDEX cases_created ON cases (created_at DESC, id DESC);
CREATE INDEX cases_timers ON cases (state, first_response_at);

-- One row per (case, topic), kept in step with cases.topics, for topic filters.
CREATE TABLE case_topics (
    case_id TEXT NOT NULL REFERENCES cases (id),
    topic   TEXT NOT NULL,
    PRIMARY KEY (case_id, topic)
);
CREATE INDEX case_topics_topic ON case_topics (topic, case_id);

CREATE TABLE posts (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    url         TEXT,
    author      TEXT,
    thread_key  TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    triage      TEXT NOT NULL,
    sensitive   BIGINT NOT NULL,
    topics      TEXT NOT NULL,
    kind        TEXT,
    case_id     TEXT REFERENCES cases (id),
    created_at  BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX posts_created ON posts (created_at DESC, id DESC);
CREATE INDEX posts_case ON posts (case_id);

-- The unredacted text of a post. Never read by the post or case queries.
CREATE TABLE post_revisions (
    post_id        TEXT PRIMARY KEY REFERENCES posts (id),
    original_title TEXT NOT NULL,
    original_body  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Every manual relabel, kept as training and evaluation data.
CREATE TABLE relabels (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id         TEXT NOT NULL REFERENCES posts (id),
    topics          TEXT NOT NULL,
    kind            TEXT,
    previous_topics TEXT NOT NULL,
    previous_kind   TEXT,
    actor           TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE timeline (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX timeline_case ON timeline (case_id, id);

CREATE TABLE responses (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    findings    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('draft', 'approved')),
    approved_by TEXT,
    created_at  BIGINT NOT NULL,
    approved_at BIGINT
);
CREATE INDEX responses_case ON responses (case_id, created_at);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         TEXT REFERENCES cases (id),
    channel         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    leased_by       TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);
CREATE INDEX outbox_case ON outbox (case_id, id);

CREATE TABLE delivery_attempts (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    at        BIGINT NOT NULL,
    worker    TEXT NOT NULL,
    ok        BIGINT NOT NULL,
    error     TEXT
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, id);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Hash-chained, append-only audit log. seq is assigned from audit_head, whose single row
-- is locked by every append so that concurrent writers (several instances on one
-- PostgreSQL database) extend the chain one at a time and never fork it.
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
