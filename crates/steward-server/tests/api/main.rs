//! The desk's HTTP API, end to end: one integration-test binary that starts the real router
//! on a loopback port against a fresh SQLite or PostgreSQL database, with a real HTTP and
//! SMTP receiver process behind its channels. Every story runs on both backends.

mod helpers;

mod bad_input;
mod delivery;
mod escalation;
mod health;
mod openapi;
mod ownership;
mod permissions;
mod responses;
mod timers;
mod tokens;
