-- Steward store, SQLite schema v1. Migrations are added, never edited.
-- Times are INTEGER unix milliseconds; JSON values are TEXT; booleans are INTEGER 0/1.
-- Column names and types mirror migrations/postgres/0001_init.sql so that one SQL text
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
    created_at        INTEGER NOT NULL,
    due_at            INTEGER,
    remind_at         INTEGER,
    first_response_at INTEGER,
    reminded_at       INTEGER,
    breached_at       INTEGER,
    closed_at         INTEGER,
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
    sensitive   INTEGER NOT NULL,
    topics      TEXT NOT NULL,
    kind        TEXT,
    case_id     TEXT REFERENCES cases (id),
    created_at  INTEGER NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX posts_created ON posts (created_at DESC, id DESC);
CREATE INDEX posts_case ON posts (case_id);

-- The unredacted text of a post. Never read by the post or case queries.
CREATE TABLE post_revisions (
    post_id        TEXT PRIMARY KEY REFERENCES posts (id),
    original_title TEXT NOT NULL,
    original_body  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

-- Every manual relabel, kept as training and evaluation data.
CREATE TABLE relabels (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id         TEXT NOT NULL REFERENCES posts (id),
    topics          TEXT NOT NULL,
    kind            TEXT,
    previous_topics TEXT NOT NULL,
    previous_kind   TEXT,
    actor           TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE timeline (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL REFERENCES cases (id),
    at      INTEGER NOT NULL,
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
    created_at  INTEGER NOT NULL,
    approved_at INTEGER
);
CREATE INDEX responses_case ON responses (case_id, created_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         TEXT REFERENCES cases (id),
    channel         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    leased_by       TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);
CREATE INDEX outbox_case ON outbox (case_id, id);

CREATE TABLE delivery_attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    at        INTEGER NOT NULL,
    worker    TEXT NOT NULL,
    ok        INTEGER NOT NULL,
    error     TEXT
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, id);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Hash-chained, append-only audit log. seq is assigned from audit_head, whose single row
-- is locked by every append so that concurrent writers (several instances on one
-- PostgreSQL database) extend the chain one at a time and never fork it.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
