//! Instants: the request time, order timestamps and deadlines.
//!
//! An `Instant` is a UTC instant with nanosecond precision anywhere in RFC 3339's range of years
//! (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z), so a "never" such as
//! `9999-12-31T23:59:59Z` is an ordinary value. Arithmetic on instants is done on `i128` nanoseconds
//! (`Instant::nanos`), which cannot overflow for any sum of in-range values; a result that leaves the
//! range is refused by `Instant::from_nanos`, so it becomes an error, never a wrapped or clamped value.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};

/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_SECOND_WIDE: i128 = NANOS_PER_SECOND as i128;

/// Seconds from 1970-01-01T00:00:00Z to 0001-01-01T00:00:00Z.
const MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

/// A UTC instant between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    // INVARIANT: MIN_SECONDS <= seconds <= MAX_SECONDS and nanos < NANOS_PER_SECOND, so the derived
    // ordering (seconds, then nanos) is the ordering of instants.
    seconds: i64,
    nanos: u32,
}

impl Instant {
    /// 0001-01-01T00:00:00Z.
    pub const MIN: Instant = Instant {
        seconds: MIN_SECONDS,
        nanos: 0,
    };
    /// 9999-12-31T23:59:59.999999999Z.
    pub const MAX: Instant = Instant {
        seconds: MAX_SECONDS,
        nanos: 999_999_999,
    };
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Instant = Instant {
        seconds: 0,
        nanos: 0,
    };

    /// The instant `nanos` nanoseconds after 1970-01-01T00:00:00Z, if it is within the range.
    #[inline]
    pub fn from_nanos(nanos: i128) -> Option<Instant> {
        if !Instant::contains(nanos) {
            return None;
        }
        let (seconds, fraction) = split_nanos(nanos);
        Some(Instant {
            seconds,
            nanos: fraction,
        })
    }

    /// Whether `nanos` (since the Unix epoch) is an instant of the range: two comparisons.
    #[inline]
    pub fn contains(nanos: i128) -> bool {
        (MIN_NANOS..=MAX_NANOS).contains(&nanos)
    }

    /// The instant `seconds` (and `nanos` more nanoseconds) after the Unix epoch, if within the range.
    pub fn from_unix(seconds: i64, nanos: u32) -> Option<Instant> {
        ((MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && i64::from(nanos) < NANOS_PER_SECOND)
            .then_some(Instant { seconds, nanos })
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z; the form every computation with instants takes.
    pub fn nanos(self) -> i128 {
        i128::from(self.seconds) * NANOS_PER_SECOND_WIDE + i128::from(self.nanos)
    }

    /// Whole seconds since 1970-01-01T00:00:00Z (rounded down).
    pub fn unix_seconds(self) -> i64 {
        self.seconds
    }

    /// The nanoseconds past `unix_seconds`.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// The current time.
    pub fn now() -> Instant {
        Instant::try_from(Utc::now()).unwrap_or(Instant::MAX)
    }

    /// Reads an RFC 3339 timestamp with an offset (`2026-02-16T09:00:00+08:00`, `...Z`).
    pub fn parse(text: &str) -> Result<Instant, crate::value::TimestampError> {
        crate::value::parse_timestamp(text).map_err(crate::value::TimestampError)
    }
}

/// `Instant::MIN` and `Instant::MAX` in nanoseconds.
const MIN_NANOS: i128 = MIN_SECONDS as i128 * NANOS_PER_SECOND_WIDE;
const MAX_NANOS: i128 = MAX_SECONDS as i128 * NANOS_PER_SECOND_WIDE + 999_999_999;

/// Whole seconds (rounded down) and the nanoseconds past them. Instants of 1678 to 2261 fit an `i64`
/// of nanoseconds, where dividing by a constant is a multiplication; `i128` division is a call.
#[inline]
pub(crate) fn split_nanos(nanos: i128) -> (i64, u32) {
    if let Ok(narrow) = i64::try_from(nanos) {
        return (
            narrow.div_euclid(NANOS_PER_SECOND),
            narrow.rem_euclid(NANOS_PER_SECOND) as u32,
        );
    }
    // Clamped only so that a value far out of any range cannot wrap; callers check the range.
    let seconds = nanos
        .div_euclid(NANOS_PER_SECOND_WIDE)
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (seconds, nanos.rem_euclid(NANOS_PER_SECOND_WIDE) as u32)
}

/// The instant is out of range: before year 1 or after year 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the instant is outside the supported range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z)")]
pub struct OutOfRange;

impl<Tz: TimeZone> TryFrom<DateTime<Tz>> for Instant {
    type Error = OutOfRange;

    fn try_from(value: DateTime<Tz>) -> Result<Self, Self::Error> {
        Instant::from_unix(value.timestamp(), value.timestamp_subsec_nanos()).ok_or(OutOfRange)
    }
}

impl From<Instant> for DateTime<Utc> {
    fn from(instant: Instant) -> Self {
        // INVARIANT: every instant of the range is representable by chrono (years -262143 to 262142).
        DateTime::from_timestamp(instant.seconds, instant.nanos).unwrap_or_default()
    }
}

/// RFC 3339 in UTC (`2026-02-16T01:00:00Z`), fractions of a second only when there are any.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc: DateTime<Utc> = (*self).into();
        f.write_str(&utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_rfc3339_range_is_accepted_and_nothing_beyond() {
        let first = Instant::parse("0001-01-01T00:00:00Z").unwrap();
        let last = Instant::parse("9999-12-31T23:59:59.999999999Z").unwrap();
        assert_eq!(first, Instant::MIN);
        assert_eq!(last, Instant::MAX);
        assert_eq!(Instant::from_nanos(first.nanos() - 1), None);
        assert_eq!(Instant::from_nanos(last.nanos() + 1), None);
        assert_eq!(Instant::from_nanos(last.nanos()), Some(last));
        assert!(Instant::parse("0001-01-01T00:00:00+01:00").is_err());
        assert!(Instant::parse("9999-12-31T23:59:59-05:00").is_err());
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn nanos_round_trip_before_and_after_the_epoch() {
        for nanos in [
            -1i128,
            0,
            1,
            -1_500_000_000,
            1_500_000_000,
            1_733_025_600_250_000_000,
        ] {
            let instant = Instant::from_nanos(nanos).unwrap();
            assert_eq!(instant.nanos(), nanos);
            assert!(instant.subsec_nanos() < 1_000_000_000);
        }
        assert!(Instant::from_nanos(-1).unwrap() < Instant::UNIX_EPOCH);
    }

    #[test]
    fn chrono_round_trip() {
        let t = Instant::parse("2026-02-16T09:00:00.5+08:00").unwrap();
        let utc: DateTime<Utc> = t.into();
        assert_eq!(utc.to_rfc3339(), "2026-02-16T01:00:00.500+00:00");
        assert_eq!(Instant::try_from(utc), Ok(t));
        let fixed = DateTime::parse_from_rfc3339("2026-02-16T09:00:00.5+08:00").unwrap();
        assert_eq!(Instant::try_from(fixed), Ok(t));
    }
}
