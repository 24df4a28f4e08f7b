//! The policy's zone as the analysis models it: the instant each calendar day starts.
//!
//! The interpreter takes `date(t)` as the zone's date of the instant `t`, and `start_of_day(d)` as midnight
//! of date `d`, or, when midnight falls in a gap, the end of the gap. Write `F(d)` for the first instant
//! whose date is `d` (or later), and `S(d)` for `start_of_day(d)`. In a *regular* zone the date never
//! steps back, so `date(t) = d` exactly when `F(d) <= t < F(d + 1)`, and `S(d) = F(d)` (London on
//! 1847-12-01, leaving local mean time at midnight: both are 00:01:15). The model still measures how
//! much later than `F(d)` any `S(d)` is (`quirk_max`, zero for every zone today), so that it stays sound
//! if the interpreter's `start_of_day` ever differs. The zone is read once, from the interpreter's own
//! functions (`crate::zone::Zone`):
//!
//! - its transitions (the instants its offset changes), found by sampling every six days from 1780 to
//!   2105 and bisecting to the second. chrono-tz's data changes no offset before 1780 or after 2105 and
//!   never twice within a week (checked for every zone of chrono-tz 0.10 at half-hour resolution), and
//!   the offsets at year 1 and year 9999 are compared with the sampled ends: a zone that differs is
//!   treated as irregular;
//! - around each transition, the days' starts: the zone is regular if the date never steps back at a
//!   transition;
//! - the range of `e(d) = d * DAY - F(d)` (the offset in force at the start of day `d`) and of the day
//!   lengths `F(d + 1) - F(d)` over all days, and how much later than `F(d)` any `S(d)` is.
//!
//! A zone whose `e` never changes (`Etc/GMT-8`, `UTC`) is *fixed*: `F(d) = S(d) = d * DAY - e` is linear
//! and the model is exact. Other zones (daylight saving time, or offsets that changed in the past, as
//! `Asia/Shanghai`'s did until 1991) keep `F(d)` and `S(d)` as variables per day the guards mention,
//! bounded by these ranges (see `logic`); a region the analysis finds there is only reported once a real
//! order in it is found, on real dates of the zone. An irregular zone (21 in chrono-tz 0.10, listed by
//! `the_irregular_zones_are_known`) is modelled by its offsets alone: sound, but less precise.
//!
//! Instants are nanoseconds since the epoch and days are day numbers, both as `i128`. The functions
//! under "Runtime" are the only ones that know how the interpreter stores them.

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Offset, TimeZone};

use crate::time::Instant;
use crate::value::{Value, NANOS_PER_SECOND};
use crate::zone::Zone;

pub const NANOS: i128 = NANOS_PER_SECOND as i128;
pub const DAY: i128 = 86_400 * NANOS;

// ---- Runtime: the interpreter's instants and zone functions, in the analysis's units. ----

/// A timestamp or duration constant, in nanoseconds.
pub fn instant_constant(value: &Value) -> Option<i128> {
    match value {
        Value::Timestamp(t) => Some(t.nanos()),
        Value::Duration(n) => Some(i128::from(*n)),
        _ => None,
    }
}

/// An instant of the supported range (years 0001 to 9999), in nanoseconds.
fn in_range(t: i128) -> Option<i128> {
    Instant::from_nanos(t).map(Instant::nanos)
}

/// The interpreter's date of an instant, as a day number.
fn runtime_day_of(zone: &Zone, t: i128) -> Option<i64> {
    Some(i64::from(zone.day_of(in_range(t)?)))
}

/// The interpreter's `start_of_day` of a day number.
fn runtime_start_of_day(zone: &Zone, day: i64) -> Option<i128> {
    let day = i32::try_from(day).ok()?;
    zone.start_of_day_number(day).and_then(in_range)
}

/// The zone's offset from UTC at an instant, in nanoseconds.
fn runtime_offset(zone: &Zone, t: i128) -> Option<i128> {
    Some(i128::from(zone.offset_at(in_range(t)?)) * NANOS)
}

/// An instant as the RFC 3339 text an order carries (with the zone's offset at that instant).
pub fn runtime_format(zone: &Zone, t: i128) -> Option<String> {
    Some(zone.format(in_range(t)?).to_string())
}

// ---- The model of the zone. ----

/// The sampled span of chrono-tz's transitions: 1780-01-01 to 2105-01-01 (UTC), in seconds.
const SCAN_START: i64 = -5_996_188_800;
const SCAN_END: i64 = 4_260_211_200;
/// Transitions are at least a week apart: a sample every six days sees each one.
const SCAN_STEP: i64 = 6 * 86_400;
/// Year 1 and year 9999, where the offsets must be those at the ends of the scan.
const FAR_PAST: i64 = -62_135_596_800;
const FAR_FUTURE: i64 = 253_402_300_799;

#[derive(Debug)]
pub struct ZoneModel {
    pub zone: Zone,
    /// The date never steps back: `date(t) = d` exactly when `F(d) <= t < F(d + 1)`.
    pub regular: bool,
    /// The range of `e(d) = d * DAY - F(d)`.
    pub e_min: i128,
    pub e_max: i128,
    /// The range of `F(d + 1) - F(d)`.
    pub step_min: i128,
    pub step_max: i128,
    /// The most `S(d)` is later than `F(d)`.
    pub quirk_max: i128,
    /// The days where `S(d) != F(d)`, with `F(d)`.
    quirks: Vec<(i64, i128)>,
    /// The range of the zone's offsets from UTC.
    pub offset_min: i128,
    pub offset_max: i128,
    /// Days whose length is not 24 hours, or whose `S` is not `F`, in order.
    pub special_days: Vec<i64>,
}

impl ZoneModel {
    /// The model of a zone, computed once per process.
    pub fn of(zone: Zone) -> Arc<ZoneModel> {
        static CACHE: OnceLock<Mutex<Vec<Arc<ZoneModel>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
        if let Ok(models) = cache.lock() {
            if let Some(model) = models.iter().find(|m| m.zone.tz == zone.tz) {
                return Arc::clone(model);
            }
        }
        let model = Arc::new(ZoneModel::compute(zone));
        if let Ok(mut models) = cache.lock() {
            models.push(Arc::clone(&model));
        }
        model
    }

    /// `Some(e)` when `F(d) = S(d) = d * DAY - e` for every day.
    pub fn fixed(&self) -> Option<i128> {
        (self.regular
            && self.e_min == self.e_max
            && self.step_min == DAY
            && self.step_max == DAY
            && self.quirk_max == 0)
            .then_some(self.e_min)
    }

    /// The interpreter's start of day `day`: `S(day)`.
    pub fn start_of_day(&self, day: i128) -> Option<i128> {
        runtime_start_of_day(&self.zone, i64::try_from(day).ok()?)
    }

    /// The first instant of date `day` (or of a later date, if no instant has this one): `F(day)`.
    pub fn first_of_day(&self, day: i128) -> Option<i128> {
        let day = i64::try_from(day).ok()?;
        match self.quirks.binary_search_by_key(&day, |(d, _)| *d) {
            Ok(i) => Some(self.quirks[i].1),
            Err(_) => runtime_start_of_day(&self.zone, day),
        }
    }

    /// The interpreter's date of instant `t`.
    #[cfg(test)]
    pub fn day_of(&self, t: i128) -> Option<i128> {
        runtime_day_of(&self.zone, t).map(i128::from)
    }

    pub fn format(&self, t: i128) -> Option<String> {
        runtime_format(&self.zone, t)
    }

    fn compute(zone: Zone) -> ZoneModel {
        let offset = |seconds: i64| runtime_offset(&zone, i128::from(seconds) * NANOS);
        let far_offset = |seconds: i64| -> Option<i128> {
            let utc = DateTime::from_timestamp(seconds, 0)?.naive_utc();
            Some(
                i128::from(
                    zone.tz
                        .offset_from_utc_datetime(&utc)
                        .fix()
                        .local_minus_utc(),
                ) * NANOS,
            )
        };
        let mut model = ZoneModel {
            zone,
            regular: true,
            e_min: i128::MAX,
            e_max: i128::MIN,
            step_min: DAY,
            step_max: DAY,
            quirk_max: 0,
            quirks: Vec::new(),
            offset_min: i128::MAX,
            offset_max: i128::MIN,
            special_days: Vec::new(),
        };
        let note_offset = |model: &mut ZoneModel, o: i128| {
            model.offset_min = model.offset_min.min(o);
            model.offset_max = model.offset_max.max(o);
            model.e_min = model.e_min.min(o);
            model.e_max = model.e_max.max(o);
        };
        let (Some(first), Some(last)) = (offset(SCAN_START), offset(SCAN_END)) else {
            return ZoneModel::unknown(zone);
        };
        if far_offset(FAR_PAST) != Some(first) || far_offset(FAR_FUTURE) != Some(last) {
            model.regular = false;
        }
        for o in [
            Some(first),
            Some(last),
            far_offset(FAR_PAST),
            far_offset(FAR_FUTURE),
        ]
        .into_iter()
        .flatten()
        {
            note_offset(&mut model, o);
        }
        // Transitions, to the second.
        let mut transitions = Vec::new();
        let (mut t, mut current) = (SCAN_START, first);
        while t < SCAN_END {
            let next = (t + SCAN_STEP).min(SCAN_END);
            let Some(o) = offset(next) else {
                return ZoneModel::unknown(zone);
            };
            if o != current {
                // The first second in (t, next] with the new offset.
                let (mut low, mut high) = (t, next);
                while high - low > 1 {
                    let mid = low + (high - low) / 2;
                    if offset(mid) == Some(current) {
                        low = mid;
                    } else {
                        high = mid;
                    }
                }
                transitions.push(high);
                note_offset(&mut model, o);
                current = o;
            }
            t = next;
        }
        // Days around each transition: their starts, lengths, and whether the zone is regular there.
        let mut days: Vec<i64> = Vec::new();
        for &transition in &transitions {
            let at = i128::from(transition) * NANOS;
            match (runtime_day_of(&zone, at - 1), runtime_day_of(&zone, at)) {
                (Some(before), Some(after)) if before <= after => {}
                _ => model.regular = false,
            }
            let utc_day = transition.div_euclid(86_400);
            days.extend(utc_day - 2..=utc_day + 3);
        }
        days.sort_unstable();
        days.dedup();
        let mut previous: Option<(i64, i128)> = None;
        for &day in &days {
            let Some(start) = runtime_start_of_day(&zone, day) else {
                model.regular = false;
                continue;
            };
            // F(day): the first instant whose date is `day` or later, at or before `start`.
            let reached = |t: i128| runtime_day_of(&zone, t).is_some_and(|d| d >= day);
            if !reached(start) {
                model.regular = false;
                continue;
            }
            let first = if reached(start - 1) {
                let (mut low, mut high) = (start - DAY, start);
                if reached(low) {
                    model.regular = false;
                    continue;
                }
                while high - low > 1 {
                    let mid = low + (high - low) / 2;
                    if reached(mid) {
                        high = mid;
                    } else {
                        low = mid;
                    }
                }
                model.quirks.push((day, high));
                model.quirk_max = model.quirk_max.max(start - high);
                model.special_days.push(day);
                high
            } else {
                start
            };
            let e = i128::from(day) * DAY - first;
            model.e_min = model.e_min.min(e);
            model.e_max = model.e_max.max(e);
            if let Some((d, f)) = previous {
                if d + 1 == day {
                    let length = first - f;
                    model.step_min = model.step_min.min(length);
                    model.step_max = model.step_max.max(length);
                    if length != DAY {
                        model.special_days.push(d);
                    }
                }
            }
            previous = Some((day, first));
        }
        model.special_days.sort_unstable();
        model.special_days.dedup();
        model
    }

    /// A zone the analysis cannot read: nothing is assumed of its days but that offsets stay within a
    /// day either way.
    fn unknown(zone: Zone) -> ZoneModel {
        ZoneModel {
            zone,
            regular: false,
            e_min: -DAY,
            e_max: DAY,
            step_min: 0,
            step_max: 3 * DAY,
            quirk_max: DAY,
            quirks: Vec::new(),
            offset_min: -DAY,
            offset_max: DAY,
            special_days: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> Arc<ZoneModel> {
        ZoneModel::of(Zone::new(name.parse().unwrap()))
    }

    #[test]
    fn fixed_zones_are_linear() {
        assert_eq!(model("Etc/GMT-8").fixed(), Some(8 * 3600 * NANOS));
        assert_eq!(model("UTC").fixed(), Some(0));
    }

    #[test]
    fn shanghai_had_daylight_saving_time() {
        let m = model("Asia/Shanghai");
        assert!(m.regular);
        assert_eq!(m.fixed(), None);
        assert_eq!(m.e_max - m.e_min, 3600 * NANOS);
        assert_eq!(m.step_min, 23 * 3600 * NANOS);
        assert_eq!(m.step_max, 25 * 3600 * NANOS);
        // 1986-05-04 (day 5967) had 23 hours.
        assert!(m.special_days.contains(&5967), "{:?}", m.special_days);
    }

    #[test]
    fn new_york_and_midnight_zones_are_regular() {
        for name in [
            "America/New_York",
            "America/Havana",
            "America/Santiago",
            "Asia/Beirut",
        ] {
            let m = model(name);
            assert!(m.regular, "{name}");
            assert_eq!(m.step_min, 23 * 3600 * NANOS, "{name}");
            assert_eq!(m.step_max, 25 * 3600 * NANOS, "{name}");
        }
        let m = model("America/New_York");
        // 2026-03-08 (day 20520) has 23 hours and 2026-11-01 (day 20758) has 25.
        assert!(m.special_days.contains(&20520));
        assert!(m.special_days.contains(&20758));
        assert_eq!(
            m.start_of_day(20521).unwrap() - m.start_of_day(20520).unwrap(),
            23 * 3600 * NANOS
        );
    }

    #[test]
    fn havana_starts_its_day_after_the_gap_over_midnight() {
        let m = model("America/Havana");
        // 2026-03-08 has no midnight: the day starts at 01:00 (-04:00), the instant of the transition.
        let start = m.start_of_day(20520).unwrap();
        assert_eq!(m.format(start).unwrap(), "2026-03-08T01:00:00-04:00");
        assert_eq!(m.day_of(start - 1), Some(20519));
        assert!(m.special_days.contains(&20520));
    }

    #[test]
    fn london_started_1847_12_01_after_its_midnight() {
        let m = model("Europe/London");
        assert!(m.regular);
        // Local mean time (-00:01:15) ended at midnight: the date began at 00:01:15 GMT, which is
        // also the interpreter's start of that day.
        let day = -44_591;
        let first = m.first_of_day(day).unwrap();
        assert_eq!(m.format(first).unwrap(), "1847-12-01T00:01:15+00:00");
        assert_eq!(m.start_of_day(day), Some(first));
    }

    /// The zones of chrono-tz 0.10 whose date steps back at some transition (a day repeated when Alaska
    /// crossed the date line in 1867, fall-backs from 00:01 in Newfoundland, ...): the analysis models
    /// them by their offsets alone. Every other zone is regular. Run with `--ignored`: it reads all ~600
    /// zones.
    #[test]
    #[ignore]
    fn the_irregular_zones_are_known() {
        let irregular: Vec<&str> = chrono_tz::TZ_VARIANTS
            .iter()
            .filter(|tz| !ZoneModel::compute(Zone::new(**tz)).regular)
            .map(|tz| tz.name())
            .collect();
        assert_eq!(
            irregular,
            [
                "America/Adak",
                "America/Anchorage",
                "America/Atka",
                "America/Creston",
                "America/Goose_Bay",
                "America/Juneau",
                "America/Metlakatla",
                "America/Moncton",
                "America/Nome",
                "America/Phoenix",
                "America/Sitka",
                "America/St_Johns",
                "America/Yakutat",
                "Antarctica/Casey",
                "Canada/Newfoundland",
                "MST",
                "Pacific/Guam",
                "Pacific/Saipan",
                "US/Alaska",
                "US/Aleutian",
                "US/Arizona",
            ]
        );
    }
}
