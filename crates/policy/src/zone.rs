//! A policy's time zone: dates of instants, starts of days, and RFC 3339 text with the zone's offset.
//!
//! Instants are taken here as `i128` nanoseconds since the Unix epoch (`Instant::nanos`), the form in
//! which the interpreter computes with them.
//!
//! Zones such as `Asia/Shanghai` have kept one offset for decades. `Zone` finds, once, the instant since
//! which its offset has not changed (sampled up to 2200; a zone that still changes offsets near 2200,
//! one with daylight saving time, is taken to change for ever and always asks the IANA rules); after
//! it, a date is integer arithmetic, before it the IANA rules are consulted. The answers are the same
//! either way; only the cost differs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{Tz, TzOffset};

use crate::time::split_nanos;

const SECONDS_PER_DAY: i64 = 86_400;
const NANOS: i128 = 1_000_000_000;
/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i64 = 719_163;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    pub tz: Tz,
    /// From this instant (seconds since the epoch) on, the offset is `fixed_offset` for good.
    fixed_from: i64,
    fixed_offset: i64,
    /// The zone's offset from `fixed_from` on, as chrono-tz gives it: a decision's times there are
    /// built without searching the zone's transitions.
    fixed_tz_offset: Option<TzOffset>,
}

impl Zone {
    /// The zone `tz`, its fast path found once per process: sampling its offsets costs about a
    /// millisecond, and every policy load (and batch worker) would pay it again.
    pub fn new(tz: Tz) -> Zone {
        static ZONES: OnceLock<Mutex<HashMap<Tz, Zone>>> = OnceLock::new();
        let zones = ZONES.get_or_init(Mutex::default);
        // A poisoned lock still guards a sound map: entries are inserted whole.
        if let Some(zone) = zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&tz)
        {
            return *zone;
        }
        let zone = Zone::compute(tz);
        zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tz, zone);
        zone
    }

    fn compute(tz: Tz) -> Zone {
        let offset_at = |seconds: i64| -> Option<i64> {
            let utc = DateTime::from_timestamp(seconds, 0)?.naive_utc();
            Some(i64::from(
                tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
            ))
        };
        // Offsets change at most a few times a year and never for less than a week: weekly samples back
        // from 2200 find the last change to within a week; the week before is left to the IANA rules.
        let end = 7_258_118_400; // 2200-01-01T00:00:00Z
        let start = -2_208_988_800; // 1900-01-01T00:00:00Z
        let Some(fixed_offset) = offset_at(end) else {
            return Zone {
                tz,
                fixed_from: i64::MAX,
                fixed_offset: 0,
                fixed_tz_offset: None,
            };
        };
        let week = 7 * SECONDS_PER_DAY;
        let mut fixed_from = start;
        let mut t = end;
        while t > start {
            if offset_at(t) != Some(fixed_offset) {
                fixed_from = t + 2 * week;
                break;
            }
            t -= week;
        }
        // Still changing within the last two years sampled: daylight saving time, which goes on after
        // 2200 too. No fixed offset.
        if fixed_from > end - 2 * 365 * SECONDS_PER_DAY {
            fixed_from = i64::MAX;
        }
        let fixed_tz_offset = (fixed_from != i64::MAX)
            .then(|| DateTime::from_timestamp(end, 0))
            .flatten()
            .map(|t| tz.offset_from_utc_datetime(&t.naive_utc()));
        Zone {
            tz,
            fixed_from,
            fixed_offset,
            fixed_tz_offset,
        }
    }

    /// The zone's offset from UTC at an instant, in seconds.
    #[inline]
    pub fn offset_at(&self, nanos: i128) -> i64 {
        match self.fixed_seconds(nanos) {
            Some(_) => self.fixed_offset,
            None => self.offset_searched(nanos),
        }
    }

    /// The instant's whole seconds since the epoch when it lies where the offset is fixed: the fast
    /// path of every conversion, in `i64` (instants up to 2262 fit), with no transition searched.
    #[inline]
    fn fixed_seconds(&self, nanos: i128) -> Option<i64> {
        let seconds = i64::try_from(nanos).ok()?.div_euclid(NANOS as i64);
        (seconds >= self.fixed_from).then_some(seconds)
    }

    /// The offset at an instant before the fixed range (or out of `i64`), from the zone's transitions.
    #[inline(never)]
    fn offset_searched(&self, nanos: i128) -> i64 {
        if seconds_of(nanos) >= self.fixed_from {
            return self.fixed_offset;
        }
        let utc = utc(nanos).naive_utc();
        i64::from(
            self.tz
                .offset_from_utc_datetime(&utc)
                .fix()
                .local_minus_utc(),
        )
    }

    /// The date of an instant in this zone.
    pub fn date_of(&self, nanos: i128) -> NaiveDate {
        day_number_to_date(i64::from(self.day_of(nanos)))
            .unwrap_or_else(|| utc(nanos).with_timezone(&self.tz).date_naive())
    }

    /// The date of an instant in this zone, as days since 1970-01-01.
    #[inline]
    pub fn day_of(&self, nanos: i128) -> i32 {
        if let Some(seconds) = self.fixed_seconds(nanos) {
            // Within ±2^63 nanoseconds: the day number fits `i32` many times over.
            return (seconds + self.fixed_offset).div_euclid(SECONDS_PER_DAY) as i32;
        }
        let local = seconds_of(nanos).saturating_add(self.offset_at(nanos));
        // Instants are within years 0001 to 9999 (about 3.7 million days either side of 1970); the
        // clamp only keeps an out-of-range argument from wrapping.
        local
            .div_euclid(SECONDS_PER_DAY)
            .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    /// The first instant of day number `day` (days since 1970-01-01) in this zone.
    pub fn start_of_day_number(&self, day: i32) -> Option<i128> {
        let fast = i64::from(day) * SECONDS_PER_DAY - self.fixed_offset;
        if fast - SECONDS_PER_DAY >= self.fixed_from {
            return Some(i128::from(fast) * NANOS);
        }
        self.start_of_day(day_number_to_date(i64::from(day))?)
    }

    /// The first instant of `date` in this zone (midnight, or the end of a gap at midnight).
    pub fn start_of_day(&self, date: NaiveDate) -> Option<i128> {
        self.instant_at_local(date.and_hms_opt(0, 0, 0)?)
    }

    /// The instant at which this zone's clocks read `local`. The one rule for a local time that a
    /// zone shows twice or never, whether a day's start or a timestamp moved by calendar months:
    /// when clocks are set back over it, the earlier of the two instants; when they skip it, the
    /// end of the gap (the first instant whose local time is later).
    pub fn instant_at_local(&self, local: NaiveDateTime) -> Option<i128> {
        let local_utc = local.and_utc();
        let seconds = local_utc.timestamp();
        let fraction = i128::from(local_utc.timestamp_subsec_nanos());
        let fast = seconds - self.fixed_offset;
        if fast - SECONDS_PER_DAY >= self.fixed_from {
            return Some(i128::from(fast) * NANOS + fraction);
        }
        if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
            return Some(nanos_of(&t));
        }
        // `local` falls in a gap (clocks set forward, or a zone leaving local mean time): the first
        // second whose local time is at or past it. Offsets stay within a day of UTC, so that second
        // lies within two days of `fast`; transitions fall on whole seconds.
        let (mut before, mut from) = (fast - 2 * SECONDS_PER_DAY, fast + 2 * SECONDS_PER_DAY);
        while from - before > 1 {
            let middle = before + (from - before) / 2;
            let shown = middle.saturating_add(self.offset_at(i128::from(middle) * NANOS));
            if shown >= seconds {
                from = middle;
            } else {
                before = middle;
            }
        }
        Some(i128::from(from) * NANOS)
    }

    /// The instant as RFC 3339 text with this zone's offset at that instant.
    pub fn format(&self, nanos: i128) -> Rfc3339 {
        Rfc3339 {
            nanos,
            offset: self.offset_at(nanos),
        }
    }

    pub fn datetime(&self, nanos: i128) -> DateTime<Tz> {
        match self.fixed_tz_offset {
            Some(offset) if seconds_of(nanos) >= self.fixed_from => {
                DateTime::from_naive_utc_and_offset(utc(nanos).naive_utc(), offset)
            }
            _ => utc(nanos).with_timezone(&self.tz),
        }
    }
}

/// Whole seconds of an instant in nanoseconds, rounded down.
#[inline]
fn seconds_of(nanos: i128) -> i64 {
    split_nanos(nanos).0
}

/// The instant as chrono's UTC time (chrono spans far more than years 0001 to 9999).
fn utc(nanos: i128) -> DateTime<Utc> {
    let (seconds, fraction) = split_nanos(nanos);
    DateTime::from_timestamp(seconds, fraction).unwrap_or_default()
}

fn nanos_of<Z: TimeZone>(t: &DateTime<Z>) -> i128 {
    i128::from(t.timestamp()) * NANOS + i128::from(t.timestamp_subsec_nanos())
}

/// Days since 1970-01-01.
pub fn date_to_day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_FROM_CE
}

pub fn day_number_to_date(days: i64) -> Option<NaiveDate> {
    i32::try_from(days + UNIX_EPOCH_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// `date` moved by `n` calendar months (back if negative): the same day of the month, or the last
/// day of the month reached when it has fewer days (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: NaiveDate, n: i64) -> Option<NaiveDate> {
    let count = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 {
        date.checked_add_months(count)
    } else {
        date.checked_sub_months(count)
    }
}

/// An instant written in RFC 3339 with a given offset; fractions of a second in groups of three digits,
/// only when there are any.
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339 {
    nanos: i128,
    offset: i64,
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 offsets are whole minutes. Historical offsets with seconds (local mean time, such
        // as Shanghai's +08:05:43 before 1901) are written to the minute below, and the local time
        // with that same offset, so the text still names the exact instant.
        let mut offset = self.offset.div_euclid(60) * 60;
        let mut local = seconds_of(self.nanos).saturating_add(offset);
        // RFC 3339 has four-digit years: an instant whose local date falls outside years 0001 to
        // 9999 (9999-12-31T23:59:59Z in +08:00) is written in UTC, where every instant of the range
        // has one.
        let in_years =
            |local: i64| (1..=9999).contains(&civil_from_days(local.div_euclid(SECONDS_PER_DAY)).0);
        if !in_years(local) {
            offset = 0;
            local = seconds_of(self.nanos);
        }
        let (year, month, day) = civil_from_days(local.div_euclid(SECONDS_PER_DAY));
        if !(0..=9999).contains(&year) {
            // Beyond the years instants span: the number, rather than a text no reader parses.
            return write!(f, "{}", self.nanos);
        }
        // Written digit by digit into a buffer: `write!` with widths costs ten times as much, and a
        // decision's timestamps are written for every order of a batch.
        let mut text = Digits::default();
        text.date(year, month, day);
        let seconds = local.rem_euclid(SECONDS_PER_DAY);
        text.push(b'T');
        text.number(seconds / 3600, 2);
        text.push(b':');
        text.number(seconds % 3600 / 60, 2);
        text.push(b':');
        text.number(seconds % 60, 2);
        let fraction = i64::from(split_nanos(self.nanos).1);
        if fraction != 0 {
            text.push(b'.');
            if fraction % 1_000_000 == 0 {
                text.number(fraction / 1_000_000, 3);
            } else if fraction % 1000 == 0 {
                text.number(fraction / 1000, 6);
            } else {
                text.number(fraction, 9);
            }
        }
        text.push(if offset < 0 { b'-' } else { b'+' });
        let offset = offset.abs();
        text.number(offset / 3600, 2);
        text.push(b':');
        text.number(offset % 3600 / 60, 2);
        f.write_str(text.as_str())
    }
}

/// Days since 1970-01-01 as a proleptic Gregorian `(year, month, day)`, for any day number (Howard
/// Hinnant's `civil_from_days`): integer arithmetic, no table, no failure.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, so that the leap day is the year's last.
    let from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * from_march + 2) / 5 + 1;
    let month = if from_march < 10 {
        from_march + 3
    } else {
        from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // INVARIANT: 1 <= month <= 12 and 1 <= day <= 31 by construction.
    (year, month as u32, day as u32)
}

/// A short ASCII text built digit by digit (an RFC 3339 timestamp is at most 35 bytes).
struct Digits {
    bytes: [u8; 40],
    len: usize,
}

impl Default for Digits {
    fn default() -> Self {
        Digits {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl Digits {
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// `value` (not negative, below `10^width`) in exactly `width` digits, zeros first.
    fn number(&mut self, value: i64, width: u32) {
        let mut divisor = 10i64.pow(width.saturating_sub(1));
        while divisor > 0 {
            self.push(b'0' + (value / divisor % 10) as u8);
            divisor /= 10;
        }
    }

    /// `YYYY-MM-DD`, the year in 0 to 9999.
    fn date(&mut self, year: i64, month: u32, day: u32) {
        self.number(year, 4);
        self.push(b'-');
        self.number(i64::from(month), 2);
        self.push(b'-');
        self.number(i64::from(day), 2);
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// A date as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub struct IsoDate(pub NaiveDate);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = i64::from(self.0.year());
        if !(0..=9999).contains(&year) {
            return write!(f, "{:04}-{:02}-{:02}", year, self.0.month(), self.0.day());
        }
        let mut text = Digits::default();
        text.date(year, self.0.month(), self.0.day());
        f.write_str(text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time built from the zone's fixed offset is chrono-tz's own, offset and text alike.
    #[test]
    fn zoned_times_on_the_fast_path_are_chrono_tz_times() {
        for tz in [
            chrono_tz::Asia::Shanghai,
            chrono_tz::UTC,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Tokyo,
        ] {
            let zone = Zone::new(tz);
            for seconds in [
                -5_000_000_000i64,
                0,
                673_000_000,
                700_000_000,
                1_780_000_000,
                4_102_444_800,
                253_402_300_799,
            ] {
                let nanos = i128::from(seconds) * 1_000_000_000 + 123;
                let expected = utc(nanos).with_timezone(&tz);
                let got = zone.datetime(nanos);
                assert_eq!(got, expected);
                assert_eq!(
                    got.offset().fix(),
                    expected.offset().fix(),
                    "{tz} {seconds}"
                );
            }
        }
    }

    /// The digit-by-digit texts are chrono's: every day from year 0001 to 9999 (sampled), every
    /// fraction form, offsets east and west, and dates on their own.
    #[test]
    fn timestamps_and_dates_are_written_as_chrono_writes_them() {
        let first = date_to_day_number(NaiveDate::from_ymd_opt(1, 1, 1).unwrap());
        let last = date_to_day_number(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap());
        let mut day = first;
        while day <= last {
            let date = day_number_to_date(day).unwrap();
            assert_eq!(
                civil_from_days(day),
                (i64::from(date.year()), date.month(), date.day())
            );
            assert_eq!(
                IsoDate(date).to_string(),
                date.format("%Y-%m-%d").to_string()
            );
            day += 13;
        }
        for (seconds, fraction) in [
            (-62_135_596_800i64, 0u32),
            (0, 0),
            (951_782_400, 5_000_000),
            (1_735_689_599, 123_456_000),
            (1_780_000_000, 1),
            (253_402_300_799, 999_999_999),
        ] {
            for offset in [
                0i32,
                8 * 3600,
                -5 * 3600,
                5 * 3600 + 45 * 60,
                -(9 * 3600 + 30 * 60),
            ] {
                let nanos = i128::from(seconds) * NANOS + i128::from(fraction);
                let written = Rfc3339 {
                    nanos,
                    offset: i64::from(offset),
                }
                .to_string();
                let fixed = chrono::FixedOffset::east_opt(offset).unwrap();
                let time = DateTime::from_timestamp(seconds, fraction)
                    .unwrap()
                    .with_timezone(&fixed);
                let year = time.year();
                if !(1..=9999).contains(&year) {
                    // Written in UTC instead (tested below).
                    continue;
                }
                let expected = time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
                assert_eq!(written, expected, "{seconds} {fraction} {offset}");
            }
        }
        // The last instant, in a zone east of UTC, falls in year 10000 there: written in UTC.
        let last = Rfc3339 {
            nanos: 253_402_300_799 * NANOS,
            offset: 8 * 3600,
        };
        assert_eq!(last.to_string(), "9999-12-31T23:59:59+00:00");
    }

    fn shanghai() -> Zone {
        Zone::new("Asia/Shanghai".parse().unwrap())
    }

    #[test]
    fn the_fast_path_agrees_with_the_iana_rules() {
        for name in [
            "Asia/Shanghai",
            "Europe/Berlin",
            "America/New_York",
            "UTC",
            "Asia/Kolkata",
            "Pacific/Apia",
        ] {
            let zone = Zone::new(name.parse().unwrap());
            // Every 7 hours and 13 minutes from 1985 to 2035.
            let mut t: i64 = 473_385_600;
            while t < 2_051_222_400 {
                let nanos = i128::from(t) * NANOS;
                let expected = Utc.timestamp_opt(t, 0).unwrap().with_timezone(&zone.tz);
                assert_eq!(zone.date_of(nanos), expected.date_naive(), "{name} at {t}");
                assert_eq!(
                    zone.format(nanos).to_string(),
                    expected.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                    "{name} at {t}"
                );
                t += 7 * 3600 + 13 * 60;
            }
            let mut day = NaiveDate::from_ymd_opt(1985, 1, 1).unwrap();
            while day.year() < 2035 {
                let expected = zone
                    .tz
                    .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                    .earliest()
                    .map(|t| nanos_of(&t));
                if expected.is_some() {
                    assert_eq!(zone.start_of_day(day), expected, "{name} on {day}");
                }
                day = day + chrono::Days::new(5);
            }
        }
    }

    /// Years 0001 to 9999: the fast path agrees with the IANA rules far from today too (zones with
    /// daylight saving time keep it after 2200).
    #[test]
    fn the_fast_path_agrees_with_the_iana_rules_in_every_year() {
        for name in ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC"] {
            let zone = Zone::new(name.parse().unwrap());
            for year in [1, 1000, 1900, 2199, 2200, 2300, 5000, 9999] {
                for month in [1, 7] {
                    let day = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
                    let utc = day.and_hms_opt(12, 0, 0).unwrap().and_utc();
                    let nanos = nanos_of(&utc);
                    let expected = utc.with_timezone(&zone.tz);
                    assert_eq!(
                        zone.offset_at(nanos),
                        i64::from(expected.offset().fix().local_minus_utc()),
                        "{name} {year}-{month}"
                    );
                    assert_eq!(zone.date_of(nanos), expected.date_naive(), "{name} {year}");
                }
            }
        }
    }

    /// London left local mean time (-00:01:15) at midnight on 1 December 1847: the date began at
    /// 00:01:15 GMT, the end of the skipped minute and a quarter.
    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_gap_ends() {
        let zone = Zone::new("Europe/London".parse().unwrap());
        let day = NaiveDate::from_ymd_opt(1847, 12, 1).unwrap();
        let start = zone.start_of_day(day).unwrap();
        assert_eq!(zone.format(start).to_string(), "1847-12-01T00:01:15+00:00");
        assert_eq!(zone.date_of(start), day);
        assert_eq!(zone.date_of(start - NANOS), day.pred_opt().unwrap());
        let havana = Zone::new("America/Havana".parse().unwrap());
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let start = havana.start_of_day(spring).unwrap();
        assert_eq!(
            havana.format(start).to_string(),
            "2026-03-08T01:00:00-04:00"
        );
        assert_eq!(havana.date_of(start - 1), spring.pred_opt().unwrap());
    }

    /// A month later is the same day of the month, or the last day of a shorter month; a negative
    /// count goes back the same way; the count is added at once, not a month at a time.
    #[test]
    fn months_keep_the_day_of_the_month_or_clamp_it_to_the_last_day() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let cases = [
            ("2026-01-31", 1, "2026-02-28"),
            ("2024-01-31", 1, "2024-02-29"),
            ("2024-02-29", 12, "2025-02-28"),
            ("2024-02-29", 48, "2028-02-29"),
            ("2026-01-31", 2, "2026-03-31"),
            ("2026-03-31", -1, "2026-02-28"),
            ("2026-05-31", 1, "2026-06-30"),
            ("2026-12-15", 1, "2027-01-15"),
            ("2027-01-15", -1, "2026-12-15"),
            ("2026-01-30", 0, "2026-01-30"),
            ("0001-01-01", 9998 * 12 + 11, "9999-12-01"),
        ];
        for (from, n, to) in cases {
            assert_eq!(add_months(day(from), n), Some(day(to)), "{from} + {n}");
        }
        // One month and another is not two months at once.
        let once = add_months(day("2026-01-31"), 1).unwrap();
        assert_eq!(add_months(once, 1), Some(day("2026-03-28")));
        // Past chrono's range, or a count past `u32`: no date, which the caller makes an overflow.
        assert_eq!(add_months(day("2026-01-31"), i64::MAX), None);
        assert_eq!(add_months(day("2026-01-31"), i64::MIN), None);
    }

    /// A local time that New York's clocks skip is the end of the gap; one they show twice is the
    /// earlier instant; in a fixed zone, an offset away.
    #[test]
    fn a_local_time_is_resolved_as_the_start_of_a_day_is() {
        let new_york = Zone::new("America/New_York".parse().unwrap());
        let local =
            |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        let at = |zone: &Zone, text: &str| {
            zone.format(zone.instant_at_local(local(text)).unwrap())
                .to_string()
        };
        assert_eq!(
            at(&new_york, "2026-03-08T02:30:00"),
            "2026-03-08T03:00:00-04:00"
        );
        assert_eq!(
            at(&new_york, "2026-03-08T01:59:59.5"),
            "2026-03-08T01:59:59.500-05:00"
        );
        assert_eq!(
            at(&new_york, "2026-03-08T03:00:00"),
            "2026-03-08T03:00:00-04:00"
        );
        assert_eq!(
            at(&new_york, "2026-11-01T01:30:00"),
            "2026-11-01T01:30:00-04:00"
        );
        assert_eq!(
            at(&new_york, "2026-11-01T02:00:00"),
            "2026-11-01T02:00:00-05:00"
        );
        assert_eq!(
            at(&shanghai(), "2026-03-08T02:30:00.25"),
            "2026-03-08T02:30:00.250+08:00"
        );
    }

    #[test]
    fn shanghai_is_fixed_since_1991() {
        let zone = shanghai();
        assert!(zone.fixed_from < 700_000_000, "{}", zone.fixed_from);
        assert_eq!(zone.fixed_offset, 8 * 3600);
        let t = 1_733_025_600 * NANOS; // 2024-12-01T04:00:00Z
        assert_eq!(zone.format(t).to_string(), "2024-12-01T12:00:00+08:00");
        assert_eq!(
            zone.format(t + 250_000_000).to_string(),
            "2024-12-01T12:00:00.250+08:00"
        );
    }
}
