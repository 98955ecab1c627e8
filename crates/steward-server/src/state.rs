//! What every request handler shares: the store, the policy and the engines built from it,
//! the clock, the settings, and the handle that wakes the delivery worker.

use std::sync::{Arc, Mutex};

use steward_desk::Clock;
use steward_policy::Policy;
use steward_store::{OutboxCounts, Store};
use steward_triage::lint::Linter;
use steward_triage::Triager;
use tokio::sync::Notify;

use crate::auth::TokenCache;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Store,
    policy: Policy,
    triager: Triager,
    linter: Linter,
    clock: Arc<dyn Clock>,
    settings: Settings,
    delivery_wake: Mutex<Option<Arc<Notify>>>,
    tokens: TokenCache,
    outbox: OutboxGauge,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot build the triage engine: {0}")]
    Triage(#[from] steward_triage::TriagerError),
    #[error("cannot build the response linter: {0}")]
    Lint(#[from] steward_triage::lint::LintError),
}

impl AppState {
    /// Builds the state: the triager (policy cues plus the model trained on the shipped
    /// labeled set) and the linter are built once here.
    pub fn new(
        store: Store,
        policy: Policy,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StateError> {
        let triager = steward_triage::default_triager(&policy)?;
        let linter = Linter::new(&policy)?;
        Ok(Self(Arc::new(Inner {
            store,
            policy,
            triager,
            linter,
            clock,
            settings,
            delivery_wake: Mutex::new(None),
            tokens: TokenCache::default(),
            outbox: OutboxGauge::default(),
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }
    pub fn triager(&self) -> &Triager {
        &self.0.triager
    }
    pub fn linter(&self) -> &Linter {
        &self.0.linter
    }
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.0.clock)
    }
    pub fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
    pub fn tokens(&self) -> &TokenCache {
        &self.0.tokens
    }

    /// The outbox's counts by status, at most [`OutboxGauge::MAX_AGE_MS`] old; `None` when
    /// the store could not count them (then `/health` answers 503).
    pub async fn outbox_counts(&self) -> Option<OutboxCounts> {
        self.0.outbox.read(&self.0.store, self.now_ms()).await
    }

    pub fn set_delivery_waker(&self, notify: Arc<Notify>) {
        *self.0.delivery_wake.lock().unwrap_or_else(|e| e.into_inner()) = Some(notify);
    }

    /// Tells the delivery worker new notifications were committed.
    pub fn wake_delivery(&self) {
        if let Some(n) = self.0.delivery_wake.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            n.notify_one();
        }
    }
}

/// The outbox counts `/health` reports, counted at most once per [`OutboxGauge::MAX_AGE_MS`]:
/// counting scans the outbox, which keeps every delivered row, and `/health` needs no token,
/// so without this anyone could make the database scan it as often as they can send
/// requests. Callers that arrive while a count runs wait for it instead of starting their
/// own.
#[derive(Debug, Default)]
pub struct OutboxGauge {
    /// When the last count was made (the desk's clock, ms), and what it gave.
    last: tokio::sync::Mutex<Option<(i64, Option<OutboxCounts>)>>,
}

impl OutboxGauge {
    pub const MAX_AGE_MS: i64 = 1_000;

    async fn read(&self, store: &Store, now_ms: i64) -> Option<OutboxCounts> {
        let mut last = self.last.lock().await;
        if let Some((at, counts)) = &*last {
            if (0..Self::MAX_AGE_MS).contains(&(now_ms - at)) {
                return *counts;
            }
        }
        // A failure is remembered for as long as a count: at most one warning a second.
        let counts = store
            .outbox_counts()
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "health: cannot read the database"))
            .ok();
        *last = Some((now_ms, counts));
        counts
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}
