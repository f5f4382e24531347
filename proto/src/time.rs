//! Wall-clock time as unix seconds: the one unit stored and sent.
//!
//! Domain code takes `now: u64` as an argument; only the service layer and the outbox
//! couriers read the clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 3339 in UTC, e.g. `2026-11-28T06:00:00Z`.
pub fn format(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format(1_800_000_000), "2027-01-15T08:00:00Z");
    }
}
