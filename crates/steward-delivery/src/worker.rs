//! The outbox worker: claims due items under a lease, sends them, records every attempt.
//!
//! Exactly-once towards the receiver rests on three things: the store hands an item to
//! one worker at a time (a lease, so several `steward serve` processes on one PostgreSQL
//! database divide the work); an attempt finishes well within the lease ([`SEND_TIMEOUT`]
//! is checked against it); and the outcomes of a step are recorded, in one transaction,
//! right after its last attempt. A process killed between a receiver's 2xx and that record
//! is the one case that sends twice, once the lease runs out; the stable
//! `X-Steward-Delivery` header lets the receiver drop it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use steward_store::{AttemptOutcome, OutboxItem, Store, StoreError};
use tokio::sync::{watch, Notify};
use tracing::Instrument;

use crate::sender::SEND_TIMEOUT;
use crate::{Backoff, ChannelConfig, DeliveryError, Message, Sender, WorkerError};

/// How long [`Worker::run`] lets notifications gather after a wake-up before it claims
/// them: a person does not notice 20 ms, a busy desk saves two write transactions per
/// notification.
const GATHER: Duration = Duration::from_millis(20);

/// Delivers the outbox. Tests drive it with [`Worker::run_once`]; the server runs
/// [`Worker::run`] in a task.
pub struct Worker {
    store: Store,
    sender: Sender,
    channels: HashMap<String, ChannelConfig>,
    backoff: Backoff,
    id: String,
    lease_ms: i64,
    batch: i64,
    concurrency: usize,
    poll: Duration,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker with a fresh id (host, process id and a random suffix), a 60 s lease,
    /// batches of 32 sent 8 at a time, and a 200 ms poll interval.
    pub fn new(
        store: Store,
        sender: Sender,
        channels: impl IntoIterator<Item = ChannelConfig>,
        backoff: Backoff,
    ) -> Self {
        let channels = channels.into_iter().map(|c| (c.id().to_owned(), c)).collect();
        Worker {
            store,
            sender,
            channels,
            backoff,
            id: default_worker_id(),
            lease_ms: 60_000,
            batch: 32,
            concurrency: 8,
            poll: Duration::from_millis(200),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Sets the worker id recorded with each claim and attempt; it must be unique among
    /// the processes sharing a database.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets how long a claim holds an item.
    ///
    /// # Panics
    /// When the lease is not longer than twice [`SEND_TIMEOUT`]: a lease that can run out
    /// during an attempt lets another worker send the same item again.
    pub fn with_lease_ms(mut self, lease_ms: i64) -> Self {
        assert!(
            lease_ms > 2 * SEND_TIMEOUT.as_millis() as i64,
            "the lease ({lease_ms} ms) must be longer than twice the send timeout"
        );
        self.lease_ms = lease_ms;
        self
    }

    /// Sets how many items one step claims and how many of them are sent at once.
    pub fn with_batch(mut self, batch: i64, concurrency: usize) -> Self {
        self.batch = batch.max(1);
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets how long [`Worker::run`] waits when there was nothing more to do.
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A handle that wakes [`Worker::run`] before its poll interval ends; the desk calls
    /// `notify_one()` after committing a case with notifications, so they go out at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Does one step now: claims the items due at `now_ms`, sends them (at most
    /// `concurrency` at a time) and records each attempt. Returns how many items it claimed.
    ///
    /// A failed delivery is not an error here: it is recorded on its item (retry at
    /// `now_ms` + backoff, or given up). The error is the store's.
    pub async fn run_once(&self, now_ms: i64) -> Result<usize, WorkerError> {
        let span = tracing::info_span!("delivery_step", worker = %self.id, now_ms);
        async {
            let items =
                self.store.claim_deliveries(&self.id, now_ms, self.lease_ms, self.batch).await?;
            let claimed = items.len();
            if claimed > 0 {
                tracing::debug!(claimed, "claimed outbox items");
            }
            let attempts: Vec<(i64, AttemptOutcome)> = stream::iter(items)
                .map(|item| self.deliver(item, now_ms))
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            // Every item was attempted: the outcomes go in together, one transaction.
            let recorded = self.store.record_attempts(&self.id, now_ms, &attempts).await?;
            for result in recorded {
                match result {
                    Ok(()) => {}
                    // The lease ran out during the attempt and another worker has the item
                    // now; its record wins. Not a failure of this step.
                    Err(StoreError::Conflict(reason)) => {
                        tracing::warn!(%reason, "attempt not recorded: lease lost");
                    }
                    Err(e) => tracing::error!(error = %e, "could not record the attempt"),
                }
            }
            Ok(claimed)
        }
        .instrument(span)
        .await
    }

    /// Attempts one item: its id and the outcome to record.
    async fn deliver(&self, item: OutboxItem, now_ms: i64) -> (i64, AttemptOutcome) {
        let span = tracing::info_span!(
            "deliver",
            outbox_id = item.id,
            channel = %item.channel,
            purpose = %item.purpose,
            attempts = item.attempts
        );
        async {
            let outcome = match self.attempt(&item).await {
                Ok(()) => AttemptOutcome::Delivered,
                Err(e) => self.outcome_of_failure(&e, item.attempts, now_ms),
            };
            (item.id, outcome)
        }
        .instrument(span)
        .await
    }

    async fn attempt(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let channel = self
            .channels
            .get(&item.channel)
            .ok_or_else(|| DeliveryError::UnknownChannel(item.channel.clone()))?;
        let msg: Message = serde_json::from_value(item.payload.clone())
            .map_err(|e| DeliveryError::BadPayload(e.to_string()))?;
        self.sender.send(channel, &msg, &item.id.to_string()).await
    }

    /// What to record after a failed attempt; `attempts_before` counts the attempts
    /// recorded before this one.
    fn outcome_of_failure(
        &self,
        error: &DeliveryError,
        attempts_before: i64,
        now_ms: i64,
    ) -> AttemptOutcome {
        let error_text = error.to_string();
        if error.is_permanent() {
            return AttemptOutcome::GiveUp { error: error_text };
        }
        match self.backoff.next_delay(attempts_before + 1) {
            Some(delay) => AttemptOutcome::Retry {
                error: error_text,
                next_attempt_at: now_ms.saturating_add(delay),
            },
            None => AttemptOutcome::GiveUp {
                error: format!("{error_text} (giving up after {} attempts)", attempts_before + 1),
            },
        }
    }

    /// Delivers until `shutdown` turns true (or its sender is dropped): a step, then
    /// another at once when the batch was full, else after the poll interval or 20 ms
    /// after a wake-up (`GATHER`).
    /// A step in progress finishes before it stops, so no attempt goes unrecorded.
    pub async fn run(self, clock: impl Fn() -> i64, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, channels = self.channels.len(), "delivery worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.run_once(clock()).await {
                Ok(claimed) if claimed as i64 >= self.batch => Duration::ZERO,
                Ok(_) => self.poll,
                Err(e) => {
                    // The store is down or failing: wait longer, and keep trying.
                    tracing::error!(error = %e, "delivery step failed");
                    self.poll * 10
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // Under load every committed case wakes the worker; a short pause lets the
                // next ones join, so a step claims and records many notifications at once
                // instead of two write transactions per notification.
                _ = self.wake.notified() => tokio::time::sleep(GATHER).await,
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(worker = %self.id, "delivery worker stopped");
    }
}

fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:08x}", std::process::id(), rand::random::<u32>())
}
