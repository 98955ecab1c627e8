//! What can go wrong delivering one message, and whether trying again can help.

/// The failure of one delivery attempt.
///
/// Messages never contain a secret: webhook URLs are stripped from transport errors and
/// response bodies are cut to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with a status outside 2xx.
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The request did not get an answer: connection refused, timeout, reset.
    #[error("transport: {0}")]
    Transport(String),
    /// The SMTP exchange failed in a way that may pass (connection, 4xx reply).
    #[error("smtp: {0}")]
    Smtp(String),
    /// The SMTP server refused the message for good (5xx reply).
    #[error("smtp rejected: {0}")]
    SmtpRejected(String),
    /// The outbox names a channel that is not configured (any more).
    #[error("unknown channel {0:?}")]
    UnknownChannel(String),
    /// The outbox payload is not a [`crate::Message`], or the message cannot be built.
    #[error("bad payload: {0}")]
    BadPayload(String),
    /// The channel configuration cannot work (bad address, bad URL).
    #[error("bad channel configuration: {0}")]
    Config(String),
}

impl DeliveryError {
    /// Whether retrying cannot help, so the item is given up now.
    ///
    /// 4xx answers are permanent except 408 (timeout) and 429 (rate limit); 5xx,
    /// transport errors and transient SMTP errors are retried.
    pub fn is_permanent(&self) -> bool {
        match self {
            DeliveryError::Http { status, .. } => {
                (400..500).contains(status) && *status != 408 && *status != 429
            }
            DeliveryError::Transport(_) | DeliveryError::Smtp(_) => false,
            DeliveryError::SmtpRejected(_)
            | DeliveryError::UnknownChannel(_)
            | DeliveryError::BadPayload(_)
            | DeliveryError::Config(_) => true,
        }
    }
}

/// The failure of a worker step as a whole (not of one delivery, which is recorded on its
/// outbox item): the store could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("store: {0}")]
    Store(#[from] steward_store::StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanence() {
        let http = |status| DeliveryError::Http { status, body: String::new() };
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(http(s).is_permanent(), "{s}");
        }
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(!http(s).is_permanent(), "{s}");
        }
        assert!(!DeliveryError::Transport("refused".into()).is_permanent());
        assert!(!DeliveryError::Smtp("421".into()).is_permanent());
        assert!(DeliveryError::SmtpRejected("550".into()).is_permanent());
        assert!(DeliveryError::UnknownChannel("x".into()).is_permanent());
        assert!(DeliveryError::BadPayload("x".into()).is_permanent());
    }
}
