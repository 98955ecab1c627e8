//! Channel configuration: where a notification goes and which topics it wants.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use steward_policy::HandleKind;

/// A value that must never reach a log, an error message or an API response.
///
/// `Debug`, `Display` and `Serialize` all print `[redacted]`; the only way to the value is
/// [`Secret::expose`], which makes every use easy to find. Serializing redacts because a
/// configuration is serialized to be shown, never to be stored.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// One configured destination for notifications, as written in the `[[channels]]` part of
/// the configuration file.
///
/// Mattermost and Slack incoming-webhook URLs carry their own credential in the path, so
/// they are [`Secret`]s too; the generic webhook's URL is not (its requests are signed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// A Mattermost incoming webhook.
    Mattermost {
        id: String,
        url: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// Topic ids this channel wants; empty means every topic.
        #[serde(default)]
        topics: Vec<String>,
    },
    /// A Slack incoming webhook (same payload shape as Mattermost).
    Slack {
        id: String,
        url: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        #[serde(default)]
        topics: Vec<String>,
    },
    /// Email over plain SMTP (`smtp://host:port`, default port 25). No TLS: point it at a
    /// local relay (the relay does TLS onwards).
    Email {
        id: String,
        smtp: String,
        from: String,
        to: Vec<String>,
        #[serde(default)]
        topics: Vec<String>,
    },
    /// A generic webhook: the message's structured `event` as JSON, signed with
    /// HMAC-SHA256 of the body under `secret` (header `X-Steward-Signature: sha256=<hex>`).
    Webhook {
        id: String,
        url: String,
        secret: Secret,
        #[serde(default)]
        topics: Vec<String>,
    },
}

/// A channel configuration that cannot work, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel {channel}: {message}")]
pub struct ConfigError {
    pub channel: String,
    pub message: String,
}

impl ChannelConfig {
    /// The channel's id, unique in the configuration; outbox rows name channels by it.
    pub fn id(&self) -> &str {
        match self {
            ChannelConfig::Mattermost { id, .. }
            | ChannelConfig::Slack { id, .. }
            | ChannelConfig::Email { id, .. }
            | ChannelConfig::Webhook { id, .. } => id,
        }
    }

    /// The kind as written in the configuration (`mattermost`, `slack`, `email`, `webhook`).
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Mattermost { .. } => "mattermost",
            ChannelConfig::Slack { .. } => "slack",
            ChannelConfig::Email { .. } => "email",
            ChannelConfig::Webhook { .. } => "webhook",
        }
    }

    fn topics(&self) -> &[String] {
        match self {
            ChannelConfig::Mattermost { topics, .. }
            | ChannelConfig::Slack { topics, .. }
            | ChannelConfig::Email { topics, .. }
            | ChannelConfig::Webhook { topics, .. } => topics,
        }
    }

    /// Whether an escalation about `topic` goes to this channel (an empty list wants all).
    pub fn wants_topic(&self, topic: &str) -> bool {
        let topics = self.topics();
        topics.is_empty() || topics.iter().any(|t| t == topic)
    }

    /// Which of a person's handles the message text uses for @-mentions on this channel.
    ///
    /// Mattermost and Slack use the chat handle and email uses the address. The generic
    /// webhook also uses the chat handle: its text is most often relayed into a chat room,
    /// and its consumers get every handle in the structured `event` anyway.
    pub fn handle_kind(&self) -> HandleKind {
        match self {
            ChannelConfig::Mattermost { .. }
            | ChannelConfig::Slack { .. }
            | ChannelConfig::Webhook { .. } => HandleKind::Chat,
            ChannelConfig::Email { .. } => HandleKind::Email,
        }
    }

    /// Checks what serde cannot: URLs parse, the SMTP address has a host, mail addresses
    /// parse and there is at least one recipient. Run it when loading the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError { channel: self.id().to_owned(), message };
        if self.id().trim().is_empty() {
            return Err(err("the id is empty".into()));
        }
        match self {
            ChannelConfig::Mattermost { url, .. } | ChannelConfig::Slack { url, .. } => {
                check_http_url(url.expose())
                    // The URL is a credential: name the problem, not the URL.
                    .map_err(|e| err(format!("url is not a valid http(s) URL ({e})")))
            }
            ChannelConfig::Webhook { url, secret, .. } => {
                check_http_url(url).map_err(|e| err(format!("url {url:?}: {e}")))?;
                if secret.expose().is_empty() {
                    return Err(err("the webhook secret is empty".into()));
                }
                Ok(())
            }
            ChannelConfig::Email { smtp, from, to, .. } => {
                parse_smtp_url(smtp).map_err(err)?;
                from.parse::<lettre::message::Mailbox>()
                    .map_err(|e| err(format!("from address {from:?}: {e}")))?;
                if to.is_empty() {
                    return Err(err("no recipient in `to`".into()));
                }
                for addr in to {
                    addr.parse::<lettre::message::Mailbox>()
                        .map_err(|e| err(format!("to address {addr:?}: {e}")))?;
                }
                Ok(())
            }
        }
    }
}

/// Validates every channel and checks that ids are unique (outbox rows name channels by
/// id, so a duplicate would make delivery ambiguous).
pub fn validate_channels(channels: &[ChannelConfig]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for channel in channels {
        channel.validate()?;
        if !seen.insert(channel.id()) {
            return Err(ConfigError {
                channel: channel.id().to_owned(),
                message: "another channel has the same id".into(),
            });
        }
    }
    Ok(())
}

fn check_http_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!("scheme {other:?} is not http or https")),
    }
}

/// Splits `smtp://host[:port]` into host and port (25 by default).
pub(crate) fn parse_smtp_url(smtp: &str) -> Result<(String, u16), String> {
    let url = reqwest::Url::parse(smtp).map_err(|e| format!("smtp {smtp:?}: {e}"))?;
    if url.scheme() != "smtp" {
        return Err(format!(
            "smtp {smtp:?}: the scheme must be smtp:// (plain SMTP to a local relay)"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("smtp {smtp:?}: no host"))?;
    // `Url` keeps the brackets of an IPv6 literal; the SMTP client wants the bare address.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), url.port().unwrap_or(25)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_everywhere() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        let c = ChannelConfig::Webhook {
            id: "w".into(),
            url: "http://x/".into(),
            secret: s,
            topics: vec![],
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn parses_tagged_config_and_rejects_unknown_fields() {
        let c: ChannelConfig = serde_json::from_value(serde_json::json!({
            "kind": "mattermost", "id": "mm", "url": "http://127.0.0.1:1/hooks/abc",
            "topics": ["licensing"]
        }))
        .unwrap();
        assert_eq!(c.id(), "mm");
        assert!(c.wants_topic("licensing"));
        assert!(!c.wants_topic("packaging"));
        assert_eq!(c.handle_kind(), HandleKind::Chat);
        c.validate().unwrap();

        let bad = serde_json::from_value::<ChannelConfig>(serde_json::json!({
            "kind": "slack", "id": "s", "url": "http://x/", "colour": "red"
        }));
        assert!(bad.is_err());
    }

    #[test]
    fn empty_topics_want_everything() {
        let c = ChannelConfig::Email {
            id: "mail".into(),
            smtp: "smtp://127.0.0.1:2525".into(),
            from: "desk@example.org".into(),
            to: vec!["Team <team@example.org>".into()],
            topics: vec![],
        };
        assert!(c.wants_topic("anything"));
        assert_eq!(c.handle_kind(), HandleKind::Email);
        c.validate().unwrap();
    }

    #[test]
    fn smtp_urls() {
        assert_eq!(parse_smtp_url("smtp://127.0.0.1:2525").unwrap(), ("127.0.0.1".into(), 2525));
        assert_eq!(parse_smtp_url("smtp://mail.local").unwrap(), ("mail.local".into(), 25));
        assert!(parse_smtp_url("smtps://mail.local").is_err());
        assert!(parse_smtp_url("127.0.0.1:25").is_err());
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let hook = |id: &str| ChannelConfig::Webhook {
            id: id.into(),
            url: "http://127.0.0.1:1/".into(),
            secret: Secret::new("k"),
            topics: vec![],
        };
        validate_channels(&[hook("a"), hook("b")]).unwrap();
        let e = validate_channels(&[hook("a"), hook("a")]).unwrap_err();
        assert_eq!(e.channel, "a");
    }

    #[test]
    fn validate_rejects_bad_values() {
        let c = ChannelConfig::Email {
            id: "mail".into(),
            smtp: "smtp://127.0.0.1:2525".into(),
            from: "not an address".into(),
            to: vec!["team@example.org".into()],
            topics: vec![],
        };
        assert!(c.validate().is_err());
        let c = ChannelConfig::Slack {
            id: "s".into(),
            url: Secret::new("ftp://secret-token@host/"),
            channel: None,
            username: None,
            topics: vec![],
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(!e.contains("secret-token"), "{e}");
    }
}
