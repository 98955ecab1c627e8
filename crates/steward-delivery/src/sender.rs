//! Sending one rendered message to one channel: the only code here that talks to the
//! outside world (HTTP and SMTP).

use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Serialize;
use sha2::Sha256;
use tracing::Instrument;

use crate::channel::parse_smtp_url;
use crate::{ChannelConfig, DeliveryError, Message};

/// Header carrying the outbox item's id on every request and mail, stable across retries,
/// so a receiver can drop a duplicate.
pub const DELIVERY_HEADER: &str = "X-Steward-Delivery";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, body)>` on generic webhook requests.
pub const SIGNATURE_HEADER: &str = "X-Steward-Signature";

/// How long one attempt may take, connection included. The worker's lease must be longer,
/// or a slow attempt could be claimed again by another worker and sent twice.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a failing response body an error keeps.
const BODY_EXCERPT_CHARS: usize = 200;

type HmacSha256 = Hmac<Sha256>;

/// Sends messages; build one and share it (it pools HTTP connections).
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
}

/// The JSON body of a Mattermost or Slack incoming-webhook request.
#[derive(Serialize)]
struct ChatPayload<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
}

impl Sender {
    /// Builds the HTTP client, with connect and overall timeouts.
    pub fn new() -> Result<Self, DeliveryError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            // A webhook that redirects elsewhere is a misconfiguration, not a hop to follow
            // with our signed body.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DeliveryError::Config(error_chain(&e.without_url())))?;
        Ok(Sender { http })
    }

    /// Sends `msg` to `channel` once. `delivery_id` goes into the `X-Steward-Delivery`
    /// header; it must stay the same across retries of one outbox item.
    pub async fn send(
        &self,
        channel: &ChannelConfig,
        msg: &Message,
        delivery_id: &str,
    ) -> Result<(), DeliveryError> {
        let span =
            tracing::info_span!("send", channel = channel.id(), kind = channel.kind(), delivery_id);
        async {
            let result = match channel {
                ChannelConfig::Mattermost { url, channel: room, username, .. }
                | ChannelConfig::Slack { url, channel: room, username, .. } => {
                    let body = serde_json::to_vec(&ChatPayload {
                        text: &msg.text,
                        channel: room.as_deref(),
                        username: username.as_deref(),
                    })
                    .map_err(|e| DeliveryError::BadPayload(e.to_string()))?;
                    self.post(url.expose(), body, delivery_id, None).await
                }
                ChannelConfig::Webhook { url, secret, .. } => {
                    let body = serde_json::to_vec(&msg.event)
                        .map_err(|e| DeliveryError::BadPayload(e.to_string()))?;
                    let signature = sign(secret.expose().as_bytes(), &body);
                    self.post(url, body, delivery_id, Some(signature)).await
                }
                ChannelConfig::Email { smtp, from, to, .. } => {
                    // lettre's timeout is per command; bound the whole exchange too.
                    tokio::time::timeout(SEND_TIMEOUT, send_mail(smtp, from, to, msg, delivery_id))
                        .await
                        .unwrap_or_else(|_| {
                            Err(DeliveryError::Smtp(format!("no answer within {SEND_TIMEOUT:?}")))
                        })
                }
            };
            match &result {
                Ok(()) => tracing::info!("delivered"),
                Err(e) => tracing::warn!(error = %e, permanent = e.is_permanent(), "not delivered"),
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        delivery_id: &str,
        signature: Option<String>,
    ) -> Result<(), DeliveryError> {
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, delivery_id)
            .body(body);
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        // `without_url`: a Mattermost/Slack hook URL is a credential.
        let response = request
            .send()
            .await
            .map_err(|e| DeliveryError::Transport(error_chain(&e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(DeliveryError::Http {
            status: status.as_u16(),
            body: body.chars().take(BODY_EXCERPT_CHARS).collect(),
        })
    }
}

async fn send_mail(
    smtp: &str,
    from: &str,
    to: &[String],
    msg: &Message,
    delivery_id: &str,
) -> Result<(), DeliveryError> {
    let (host, port) = parse_smtp_url(smtp).map_err(DeliveryError::Config)?;
    let from: Mailbox =
        from.parse().map_err(|e| DeliveryError::Config(format!("from address: {e}")))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(msg.subject.as_str())
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(DELIVERY_HEADER),
            delivery_id.to_owned(),
        ));
    for addr in to {
        let mailbox: Mailbox =
            addr.parse().map_err(|e| DeliveryError::Config(format!("to address {addr:?}: {e}")))?;
        builder = builder.to(mailbox);
    }
    let email =
        builder.body(msg.text.clone()).map_err(|e| DeliveryError::BadPayload(e.to_string()))?;
    // Plain SMTP to a relay on a trusted network (no TLS features are compiled in). A
    // transport per message: without lettre's pool feature it reconnects anyway.
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SEND_TIMEOUT))
        .build();
    match transport.send(email).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(DeliveryError::SmtpRejected(error_chain(&e))),
        Err(e) => Err(DeliveryError::Smtp(error_chain(&e))),
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the value of `X-Steward-Signature`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (the `X-Steward-Signature` value) signs `body` under `secret`.
/// The comparison runs in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_mac) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_mac) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// An error and its sources on one line: reqwest's own message ("error sending request")
/// hides the cause (connection refused, timeout) in the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trip() {
        let sig = sign(b"s3cret", b"{\"a\":1}");
        assert!(sig.starts_with("sha256="));
        assert_eq!(sig.len(), "sha256=".len() + 64);
        assert!(verify_signature(b"s3cret", b"{\"a\":1}", &sig));
        assert!(!verify_signature(b"other", b"{\"a\":1}", &sig));
        assert!(!verify_signature(b"s3cret", b"{\"a\":2}", &sig));
        assert!(!verify_signature(b"s3cret", b"{\"a\":1}", "sha1=00"));
        assert!(!verify_signature(b"s3cret", b"{\"a\":1}", "sha256=zz"));
        assert!(!verify_signature(b"s3cret", b"{\"a\":1}", ""));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
