//! The desk as a service: the HTTP JSON API under `/api/v1` (with its OpenAPI document), the
//! permission check every endpoint goes through, and the background loops that deliver the
//! outbox and fire response timers.
//!
//! Only this crate knows axum. The access table, case rules, clocks and notice texts come
//! from `steward-desk`, triage from `steward-triage`, storage from `steward-store`, delivery
//! from `steward-delivery`; the handlers hold the request plumbing and a few case checks
//! that need the stored case (see `api::cases`).

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod intake;
pub mod openapi;
pub mod settings;
pub mod state;
pub mod timers;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use steward_delivery::{Sender, Worker};
use tokio::sync::watch;

pub use error::AppError;
pub use settings::Settings;
pub use state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    api::routes(state)
}

/// Builds the delivery worker for this state's store and channels.
pub fn delivery_worker(state: &AppState) -> Result<Worker, steward_delivery::DeliveryError> {
    let d = &state.settings().delivery;
    let worker = Worker::new(
        state.store().clone(),
        Sender::new()?,
        state.settings().channels.clone(),
        d.backoff(),
    )
    .with_poll_interval(Duration::from_millis(d.poll_ms))
    .with_lease_ms(d.lease_ms);
    state.set_delivery_waker(worker.waker());
    Ok(worker)
}

/// Runs the delivery worker and the timer loop until `shutdown` turns true.
pub fn spawn_background(
    state: AppState,
    worker: Worker,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let clock = state.clock();
    let delivery_clock = Arc::clone(&clock);
    let delivery = tokio::spawn(worker.run(move || delivery_clock.now_ms(), shutdown.clone()));
    let tick = Duration::from_millis(state.settings().timers.tick_ms);
    let mut stop = shutdown;
    let timers = tokio::spawn(async move {
        loop {
            if let Err(e) = timers::run_once(&state, clock.now_ms()).await {
                tracing::error!(error = %e, "timer step failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    });
    vec![delivery, timers]
}
