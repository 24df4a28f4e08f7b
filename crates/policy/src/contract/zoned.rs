//! An instant as a decision shows it: in the policy's zone.

use std::cmp::Ordering;
use std::fmt;

use chrono::DateTime;
use chrono_tz::Tz;

use crate::time::Instant;
use crate::zone::Zone;

/// An instant of a decision (`deadline`, `holds_until`), shown in the policy's zone. It is kept as
/// the instant and the zone it belongs to; the zone's local time and offset are worked out only when
/// it is shown ([`ZonedInstant::datetime`], [`fmt::Display`]: RFC 3339 with the zone's offset at that
/// instant), so deciding pays nothing for them.
#[derive(Clone, Copy)]
pub struct ZonedInstant<'p> {
    instant: Instant,
    zone: &'p Zone,
}

impl<'p> ZonedInstant<'p> {
    pub(crate) fn new(instant: Instant, zone: &'p Zone) -> Self {
        ZonedInstant { instant, zone }
    }

    /// The instant, in UTC.
    pub fn instant(self) -> Instant {
        self.instant
    }

    /// The instant as a chrono time in the policy's zone.
    pub fn datetime(self) -> DateTime<Tz> {
        self.zone.datetime(self.instant.nanos())
    }

    /// The IANA name of the zone it is shown in (`Asia/Shanghai`).
    pub fn zone_name(self) -> &'static str {
        self.zone.tz.name()
    }
}

impl From<ZonedInstant<'_>> for DateTime<Tz> {
    fn from(zoned: ZonedInstant<'_>) -> Self {
        zoned.datetime()
    }
}

/// `2025-07-26T00:00:00+08:00`: RFC 3339, the zone's offset at the instant, fractions of a second
/// only when there are any (as the decision's JSON writes it).
impl fmt::Display for ZonedInstant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.zone.format(self.instant.nanos()), f)
    }
}

impl fmt::Debug for ZonedInstant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} ({})", self.zone_name())
    }
}

/// Two zoned instants are equal when they are the same instant, whatever zone shows them (as
/// chrono's times compare).
impl PartialEq for ZonedInstant<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.instant == other.instant
    }
}

impl Eq for ZonedInstant<'_> {}

impl PartialOrd for ZonedInstant<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ZonedInstant<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}
