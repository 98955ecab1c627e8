//! Delivery of escalation notifications: Mattermost and Slack incoming webhooks, email over
//! SMTP, and a generic webhook signed with HMAC-SHA256.
//!
//! The desk never sends anything itself. When it opens a case it renders one [`Message`]
//! per channel that wants the case's topic and writes it to the outbox in the case's
//! transaction (the store's job). The [`Worker`] then claims due outbox items under a lease,
//! sends each once with the [`Sender`], and records the attempt: delivered, retry at a time
//! given by the [`Backoff`], or given up (a permanent error, or too many attempts). So
//! nothing is lost when a receiver or the desk is down, and nothing is sent twice by two
//! workers.
//!
//! Invariants: this crate knows no SQL (it goes through `steward_store::Store`), and no
//! secret (webhook secrets, Mattermost/Slack hook URLs) reaches a log or an error message.

mod backoff;
mod channel;
mod error;
mod message;
mod sender;
mod worker;

pub use backoff::Backoff;
pub use channel::{validate_channels, ChannelConfig, ConfigError, Secret};
pub use error::{DeliveryError, WorkerError};
pub use message::Message;
pub use sender::{sign, verify_signature, Sender, DELIVERY_HEADER, SEND_TIMEOUT, SIGNATURE_HEADER};
pub use worker::Worker;
