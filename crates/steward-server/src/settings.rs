//! The desk's configuration: defaults, then a TOML file, then `STEWARD_*` environment
//! variables, into one typed [`Settings`] passed explicitly.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use steward_delivery::{Backoff, ChannelConfig};

/// The documented default configuration file (`steward config default`).
pub const DEFAULT_FILE: &str = include_str!("../steward.example.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `sqlite://PATH` or `postgres://…`.
    #[serde(default = "default_database")]
    pub database: String,
    /// Policy file; the shipped example policy when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PathBuf>,
    /// Base URL used in links to cases; `http://<listen>` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    #[serde(default)]
    pub delivery: DeliverySettings,
    #[serde(default)]
    pub timers: TimerSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// First retry delay; doubled each failure up to `max_backoff_ms`.
    pub base_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Attempts before a notification is given up (and shown as failed on the case).
    pub max_attempts: i64,
    /// How long a claimed notification is reserved for one desk instance.
    pub lease_ms: i64,
    /// How often the worker looks for due notifications when not woken.
    pub poll_ms: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        let b = Backoff::default();
        Self {
            base_backoff_ms: b.base_ms,
            max_backoff_ms: b.max_ms,
            max_attempts: b.max_attempts,
            lease_ms: 60_000,
            poll_ms: 500,
        }
    }
}

impl DeliverySettings {
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base_ms: self.base_backoff_ms,
            max_ms: self.max_backoff_ms,
            max_attempts: self.max_attempts,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerSettings {
    /// How often due reminders and missed targets are looked for.
    pub tick_ms: u64,
}

impl Default for TimerSettings {
    fn default() -> Self {
        Self { tick_ms: 1_000 }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_string()
}

fn default_database() -> String {
    "sqlite://steward-data/steward.db".to_string()
}

fn default_max_body() -> usize {
    1024 * 1024
}

impl Default for Settings {
    fn default() -> Self {
        toml::from_str("").expect("an empty file gives the defaults")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("channel configuration: {0}")]
    Channel(#[from] steward_delivery::ConfigError),
}

impl Settings {
    /// Reads settings from an optional file's text, then applies `STEWARD_*` variables.
    pub fn load(
        file: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut s: Settings = match file {
            Some((name, text)) => toml::from_str(text).map_err(|e| SettingsError::File {
                file: name.to_string(),
                message: e.to_string().trim_end().to_string(),
            })?,
            None => Settings::default(),
        };
        for (var, value) in env {
            let bad = |message: String| SettingsError::Env { var: var.clone(), message };
            match var.as_str() {
                "STEWARD_LISTEN" => s.listen = value,
                "STEWARD_DATABASE" | "STEWARD_DATABASE_URL" => s.database = value,
                "STEWARD_POLICY" => s.policy = Some(PathBuf::from(value)),
                "STEWARD_PUBLIC_URL" => s.public_url = Some(value),
                "STEWARD_MAX_BODY_BYTES" => {
                    s.max_body_bytes = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "STEWARD_CHANNELS" => {
                    s.channels = serde_json::from_str(&value)
                        .map_err(|e| bad(format!("expected a JSON array of channels: {e}")))?
                }
                "STEWARD_DELIVERY_BASE_BACKOFF_MS" => {
                    s.delivery.base_backoff_ms = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "STEWARD_DELIVERY_MAX_BACKOFF_MS" => {
                    s.delivery.max_backoff_ms = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "STEWARD_DELIVERY_MAX_ATTEMPTS" => {
                    s.delivery.max_attempts = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "STEWARD_DELIVERY_POLL_MS" => {
                    s.delivery.poll_ms = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                "STEWARD_TIMERS_TICK_MS" => {
                    s.timers.tick_ms = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                _ => {}
            }
        }
        steward_delivery::validate_channels(&s.channels)?;
        Ok(s)
    }

    /// The base of links to cases.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_file_is_the_defaults() {
        let from_file = Settings::load(Some(("default", DEFAULT_FILE)), []).unwrap();
        assert_eq!(from_file, Settings::default());
    }

    #[test]
    fn environment_overrides_file() {
        let env = [
            ("STEWARD_LISTEN".to_string(), "127.0.0.1:0".to_string()),
            ("STEWARD_DATABASE".to_string(), "postgres://x@h/db".to_string()),
        ];
        let s = Settings::load(Some(("f", "listen = \"0.0.0.0:1\"")), env).unwrap();
        assert_eq!(s.listen, "127.0.0.1:0");
        assert_eq!(s.database, "postgres://x@h/db");
    }

    #[test]
    fn unknown_keys_and_bad_values_say_where() {
        let e = Settings::load(Some(("steward.toml", "lisen = \"x\"")), []).unwrap_err();
        assert!(e.to_string().starts_with("steward.toml:"), "{e}");
        let env = [("STEWARD_MAX_BODY_BYTES".to_string(), "lots".to_string())];
        let e = Settings::load(None, env).unwrap_err();
        assert!(e.to_string().contains("STEWARD_MAX_BODY_BYTES"), "{e}");
    }
}
