//! Durations written the way people write them in a policy: `30m`, `4h`, `2d`, `1w`.

use std::fmt;
use std::str::FromStr;

/// A span of time in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minutes(pub u32);

impl Minutes {
    pub fn as_secs(self) -> i64 {
        i64::from(self.0) * 60
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a duration: write a whole number and a unit, like `30m`, `24h`, `3d` or `1w`"
)]
pub struct BadDuration(pub String);

impl FromStr for Minutes {
    type Err = BadDuration;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || BadDuration(s.to_string());
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let n: u32 = num.parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "m" | "min" | "minutes" => 1,
            "h" | "hours" => 60,
            "d" | "days" => 60 * 24,
            "w" | "weeks" => 60 * 24 * 7,
            _ => return Err(bad()),
        };
        n.checked_mul(per).map(Minutes).ok_or_else(bad)
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m != 0 && m.is_multiple_of(60 * 24 * 7) {
            write!(f, "{}w", m / (60 * 24 * 7))
        } else if m != 0 && m.is_multiple_of(60 * 24) {
            write!(f, "{}d", m / (60 * 24))
        } else if m != 0 && m.is_multiple_of(60) {
            write!(f, "{}h", m / 60)
        } else {
            write!(f, "{m}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_unit() {
        for (text, minutes, shown) in [
            ("30m", 30, "30m"),
            ("24h", 1440, "1d"),
            ("36h", 2160, "36h"),
            ("3d", 4320, "3d"),
            ("2w", 20160, "2w"),
        ] {
            let m: Minutes = text.parse().unwrap();
            assert_eq!(m, Minutes(minutes), "{text}");
            assert_eq!(m.to_string(), shown);
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for text in ["", "h", "12", "3 fortnights", "-1h", "99999999999d"] {
            assert!(text.parse::<Minutes>().is_err(), "{text:?} should not parse");
        }
    }
}
