//! The dates and ages `set-user` takes: `--expires YYYY-MM-DD|RFC3339|never` and
//! `--max-password-age DAYS|never`, parsed by clap so a bad one is a usage error (exit 2).

use authd_proto::protocol::{Change, PasswordAge};

/// `--expires`: `never`, a day (`2027-03-31`, from 00:00 UTC that day), or an RFC 3339
/// time (`2027-03-31T18:00:00Z`, `2027-03-31T18:00:00+02:00`).
pub fn expires(value: &str) -> Result<Change<u64>, String> {
    if value == "never" {
        return Ok(Change::Clear);
    }
    date(value)
        .map(Change::Set)
        .map_err(|e| format!("{e}, or never"))
}

/// A day (`2027-03-31`, 00:00 UTC) or an RFC 3339 time, as unix seconds: `--expires`,
/// `outbox purge --delivered-before`.
pub fn date(value: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{value}` is not a date: give YYYY-MM-DD or an RFC 3339 time \
             (2027-03-31T18:00:00Z)"
        )
    };
    let is_day = value.len() == 10 && value.as_bytes().get(4) == Some(&b'-');
    if is_day {
        let day = format!("{value}T00:00:00Z");
        return unix(&day, 0).ok_or_else(bad);
    }
    let (time, offset) = split_offset(value).ok_or_else(bad)?;
    unix(&format!("{time}Z"), offset).ok_or_else(bad)
}

/// A date-time without its zone, and the zone's offset east of UTC in seconds.
fn split_offset(value: &str) -> Option<(&str, i64)> {
    if let Some(time) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        return Some((time, 0));
    }
    let (time, zone) = value.split_at(value.len().checked_sub(6)?);
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = zone[1..].split_once(':')?;
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((time, sign * (hours * 3600 + minutes * 60)))
}

fn unix(utc: &str, offset: i64) -> Option<u64> {
    if !utc.contains('T') {
        return None;
    }
    let at = humantime::parse_rfc3339(utc).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    u64::try_from(i64::try_from(secs).ok()? - offset).ok()
}

/// `--max-password-age`: `max_age`, or `default` for `[password] max_age`.
pub fn max_age_change(value: &str) -> Result<Change<PasswordAge>, String> {
    match value {
        "default" => Ok(Change::Clear),
        _ => max_age(value).map(Change::Set),
    }
}

/// `--max-password-age`: `never` or 1-36500 days.
pub fn max_age(value: &str) -> Result<PasswordAge, String> {
    if value == "never" {
        return Ok(PasswordAge::Never);
    }
    match value.parse::<u32>() {
        Ok(days) if (1..=crate::config::MAX_AGE_DAYS).contains(&days) => {
            Ok(PasswordAge::Days(days))
        }
        _ => Err(format!(
            "`{value}` is not a number of days: give 1 to {}, never or default",
            crate::config::MAX_AGE_DAYS
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_times_and_never() {
        assert_eq!(expires("never"), Ok(Change::Clear));
        assert_eq!(
            expires("2027-01-15"),
            Ok(Change::Set(1_800_000_000 - 8 * 3600))
        );
        assert_eq!(
            expires("2027-01-15T08:00:00Z"),
            Ok(Change::Set(1_800_000_000))
        );
        assert_eq!(
            expires("2027-01-15T10:00:00+02:00"),
            Ok(Change::Set(1_800_000_000))
        );
        assert_eq!(
            expires("2027-01-15T03:30:00-04:30"),
            Ok(Change::Set(1_800_000_000))
        );
        for bad in [
            "",
            "tomorrow",
            "2027-13-01",
            "2027-02-30",
            "15.01.2027",
            "2027-01-15T08:00:00+2",
        ] {
            assert!(expires(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(max_age("90"), Ok(PasswordAge::Days(90)));
        assert_eq!(max_age("never"), Ok(PasswordAge::Never));
        for bad in ["0", "-1", "x", "36501"] {
            assert!(max_age(bad).is_err(), "{bad}");
        }
    }
}
