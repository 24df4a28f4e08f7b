//! Business-day calendars: which dates are working days, and business-day arithmetic over them.
//!
//! Calendars are data, not code: each one is a text file loaded at runtime from beside the
//! policies (the shipped ones live in `policies/calendars/`, e.g. `cn.calendar` for Mainland
//! China), parsed by [`Calendar::parse`]. This module is pure date logic and depends on nothing
//! else in the crate.
//!
//! # Calendar file format
//!
//! A UTF-8 text file (a leading byte-order mark is ignored) with one entry per line. `#` starts a comment that runs to the end of the
//! line; blank (or comment-only) lines are ignored. Fields are separated by one or more tabs or
//! spaces. Dates are written `YYYY-MM-DD` (exactly four, two and two digits).
//!
//! ```text
//! # Mainland China ...
//! name     cn
//! covers   2018-01-01 2026-12-31
//! weekend  saturday sunday
//! 2018-01-01  holiday  New Year's Day
//! 2018-02-11  workday  Spring Festival
//! ```
//!
//! Three directives are required, each exactly once, in any order:
//!
//! - `name NAME`: the calendar's name (letters, digits, `-` and `_`). The file's `name` line is
//!   authoritative, whatever the file is called.
//! - `covers FIRST LAST`: the inclusive range of dates the calendar knows about (`FIRST <= LAST`).
//!   Asking about any date outside it is an error ([`OutOfCalendar`]), never a guess.
//! - `weekend DAY...`: the weekly rest days, as full lowercase English weekday names
//!   (`monday` ... `sunday`), each at most once. The list may be empty, but the line must exist.
//!
//! Every other line is a dated entry, `DATE KIND OCCASION...`, where the occasion is the
//! (non-empty) rest of the line and may contain spaces (but not `#`):
//!
//! - `DATE holiday OCCASION`: a day off, even on a weekday. A holiday on a weekend day is allowed
//!   (and changes nothing).
//! - `DATE workday OCCASION`: a make-up working day, even on a weekend day. A workday on a day
//!   that is already a working day is allowed (and changes nothing).
//!
//! Each date may be listed at most once, and must lie within `covers`. Every date not listed is
//! a working day unless its weekday is a weekend day.
//!
//! Mistakes are reported as a [`CalendarFileError`] naming the origin, the 1-based line and
//! what is wrong; a missing directive is reported at line 1.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Calendars a policy may name, by name.
pub type Calendars = HashMap<String, Arc<Calendar>>;

/// A business-day calendar: weekend days, holidays, make-up working days, and the dates it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    name: String,
    first: NaiveDate,
    last: NaiveDate,
    /// `first` as days since 1970-01-01, and the number of days covered: business-day arithmetic on
    /// day numbers needs no date conversion.
    first_day: i64,
    days: i64,
    /// Bit `i` (word `i / 64`, bit `i % 64`) is set iff `first + i days` is a working day.
    /// Bits past the end of the range are always clear.
    working: Vec<u64>,
}

/// 1970-01-01, day 0 of day numbers.
const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Business-day arithmetic left the calendar's range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar `{calendar}` does not cover {date} (it covers {first} to {last})")]
pub struct OutOfCalendar {
    /// The calendar's name.
    pub calendar: String,
    /// The date it was asked about.
    pub date: NaiveDate,
    /// The first date it covers.
    pub first: NaiveDate,
    /// The last date it covers.
    pub last: NaiveDate,
}

/// A calendar file that cannot be read: names the origin, the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct CalendarFileError {
    /// The file's path, or the label it was parsed under.
    pub origin: String,
    /// The line, from 1.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl Calendar {
    /// Parses a calendar file (format in the module documentation). The file's `name` line
    /// gives the calendar its name; `origin` is the file path or label used in error messages.
    pub fn parse(origin: &str, text: &str) -> Result<Calendar, CalendarFileError> {
        Parser::new(origin).parse(text)
    }

    /// The name a calendar file declares on its `name` line, read without parsing the rest of the file:
    /// `None` if it has no such line, or several, or a malformed one. For naming the calendar a file
    /// that does not parse was meant to provide.
    pub fn declared_name(text: &str) -> Option<&str> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut declared = None;
        for raw in text.lines() {
            let content = raw.split('#').next().unwrap_or("");
            let Some(("name", rest)) = next_field(content) else {
                continue;
            };
            let mut names = fields(rest);
            match (names.next(), names.next(), declared) {
                (Some(name), None, None) if valid_name(name) => declared = Some(name),
                _ => return None,
            }
        }
        declared
    }

    /// The calendar's name, from its `name` line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first covered date.
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last covered date.
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// Whether `date` lies within the covered range.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    /// Whether `date` is a working day; error if outside the covered range.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, OutOfCalendar> {
        match self.index_of(date) {
            Some(i) => Ok(self.bit(i)),
            None => Err(self.out_of_calendar(date)),
        }
    }

    /// [`Calendar::add_business_days`] on day numbers (days since 1970-01-01): the interpreter's form,
    /// converted to a date only to say that the result leaves the calendar.
    pub fn add_business_days_to_day(&self, day: i64, n: i64) -> Result<i64, OutOfCalendar> {
        let offset = day.saturating_sub(self.first_day);
        let count = n.unsigned_abs();
        let found = match n.signum() {
            0 => return Ok(day),
            1 => {
                let start = offset.saturating_add(1);
                (0..self.days)
                    .contains(&start)
                    .then(|| self.nth_working_from(start, count))
            }
            _ => {
                let start = offset.saturating_sub(1);
                (0..self.days)
                    .contains(&start)
                    .then(|| self.nth_working_back_from(start, count))
            }
        };
        match found {
            Some(Some(i)) => Ok(self.first_day + i),
            // The cold path: the same answer, and its error, through dates.
            _ => {
                let date = shift(EPOCH, day);
                self.add_business_days(date, n)
                    .map(|d| d.signed_duration_since(EPOCH).num_days())
            }
        }
    }

    /// `date + n business days`. For `n > 0`: the n-th working day strictly after `date`; for
    /// `n < 0`: the |n|-th working day strictly before `date`; for `n == 0`: `date` itself.
    ///
    /// So Friday + 1 = Monday, and Saturday + 1 = Monday. `date` itself is never consulted, so it
    /// may lie outside the calendar; only the dates whose working-day status is actually
    /// consulted must be covered. Otherwise the error names the first uncovered date consulted
    /// (with a calendar starting 2018-01-01, 2017-12-31 + 5 is fine but 2017-12-29 + 5 fails on
    /// 2017-12-30). Never allocates; the work is bounded by the size of the calendar, however
    /// large `n` is.
    pub fn add_business_days(&self, date: NaiveDate, n: i64) -> Result<NaiveDate, OutOfCalendar> {
        if n == 0 {
            return Ok(date);
        }
        let count = n.unsigned_abs();
        let span = self.span();
        // Days since `first`; i64 holds any NaiveDate difference with room to spare.
        let offset = date.signed_duration_since(self.first).num_days();
        if n > 0 {
            let start = offset.saturating_add(1);
            if !(0..span).contains(&start) {
                return Err(self.out_of_calendar(shift(date, 1)));
            }
            match self.nth_working_from(start, count) {
                Some(i) => Ok(self.date_at(i)),
                None => Err(self.out_of_calendar(shift(self.last, 1))),
            }
        } else {
            let start = offset.saturating_sub(1);
            if !(0..span).contains(&start) {
                return Err(self.out_of_calendar(shift(date, -1)));
            }
            match self.nth_working_back_from(start, count) {
                Some(i) => Ok(self.date_at(i)),
                None => Err(self.out_of_calendar(shift(self.first, -1))),
            }
        }
    }

    /// Number of covered days (at least 1).
    fn span(&self) -> i64 {
        self.days
    }

    fn index_of(&self, date: NaiveDate) -> Option<i64> {
        let i = date.signed_duration_since(self.first).num_days();
        (0..self.span()).contains(&i).then_some(i)
    }

    /// `first + i days`, for a covered index `i`.
    fn date_at(&self, i: i64) -> NaiveDate {
        shift(self.first, i)
    }

    /// Bit `i`, for a covered (hence non-negative) index `i`.
    fn bit(&self, i: i64) -> bool {
        let i = i as usize;
        self.working
            .get(i / 64)
            .is_some_and(|word| (word >> (i % 64)) & 1 == 1)
    }

    /// Index of the `k`-th (`k >= 1`) working day at index `start` or later, if covered.
    /// `start` must be a covered index.
    fn nth_working_from(&self, start: i64, mut k: u64) -> Option<i64> {
        let start = start as usize;
        let mut w = start / 64;
        let mut word = *self.working.get(w)? & (u64::MAX << (start % 64));
        loop {
            let ones = u64::from(word.count_ones());
            if ones >= k {
                // Drop the k - 1 lowest set bits; the lowest remaining one is the answer.
                for _ in 1..k {
                    word &= word - 1;
                }
                return Some((w * 64) as i64 + i64::from(word.trailing_zeros()));
            }
            k -= ones;
            w += 1;
            word = *self.working.get(w)?;
        }
    }

    /// Index of the `k`-th (`k >= 1`) working day at index `start` or earlier, if covered.
    /// `start` must be a covered index.
    fn nth_working_back_from(&self, start: i64, mut k: u64) -> Option<i64> {
        let start = start as usize;
        let mut w = start / 64;
        let mut word = *self.working.get(w)? & (u64::MAX >> (63 - start % 64));
        loop {
            let ones = u64::from(word.count_ones());
            if ones >= k {
                // Drop the k - 1 highest set bits; the highest remaining one is the answer.
                for _ in 1..k {
                    word &= !(1u64 << (63 - word.leading_zeros()));
                }
                return Some((w * 64) as i64 + 63 - i64::from(word.leading_zeros()));
            }
            k -= ones;
            w = w.checked_sub(1)?;
            word = *self.working.get(w)?;
        }
    }

    #[cold]
    #[inline(never)]
    fn out_of_calendar(&self, date: NaiveDate) -> OutOfCalendar {
        OutOfCalendar {
            calendar: self.name.clone(),
            date,
            first: self.first,
            last: self.last,
        }
    }
}

/// `date + days`, saturating at the ends of `NaiveDate`'s range (only reachable for dates far
/// outside any calendar, where the exact date in an error message hardly matters).
fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.unwrap_or(if days >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Holiday,
    Workday,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Holiday => "holiday",
            Kind::Workday => "workday",
        })
    }
}

struct Entry {
    line: usize,
    date: NaiveDate,
    kind: Kind,
}

struct Parser<'a> {
    origin: &'a str,
    /// Each directive's value and the line it was given on.
    name: Option<(String, usize)>,
    covers: Option<((NaiveDate, NaiveDate), usize)>,
    /// Weekend days as a bit mask over `Weekday::num_days_from_monday`.
    weekend: Option<(u8, usize)>,
    entries: Vec<Entry>,
}

/// Splits off the first field: `(field, rest)`, with `rest` starting at the next field.
fn next_field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_separator);
    if s.is_empty() {
        return None;
    }
    let end = s.find(is_separator).unwrap_or(s.len());
    let (field, rest) = s.split_at(end);
    Some((field, rest.trim_start_matches(is_separator)))
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn fields(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_separator).filter(|f| !f.is_empty())
}

/// Parses a strict `YYYY-MM-DD` date.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(format!("bad date `{s}`: expected YYYY-MM-DD"));
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        b[range].iter().fold(0, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| format!("bad date `{s}`: no such day"))
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn valid_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl<'a> Parser<'a> {
    fn new(origin: &'a str) -> Self {
        Parser {
            origin,
            name: None,
            covers: None,
            weekend: None,
            entries: Vec::new(),
        }
    }

    #[cold]
    #[inline(never)]
    fn error(&self, line: usize, message: impl Into<String>) -> CalendarFileError {
        CalendarFileError {
            origin: self.origin.to_owned(),
            line,
            message: message.into(),
        }
    }

    fn parse(mut self, text: &str) -> Result<Calendar, CalendarFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("");
            if let Some((head, rest)) = next_field(content) {
                self.line(line, head, rest)
                    .map_err(|message| self.error(line, message))?;
            }
        }
        self.finish()
    }

    /// One non-blank line: `head` is its first field, `rest` the remainder.
    fn line(&mut self, line: usize, head: &str, rest: &str) -> Result<(), String> {
        match head {
            "name" => {
                check_once("name", &self.name)?;
                let mut names = fields(rest);
                let (Some(name), None) = (names.next(), names.next()) else {
                    return Err("`name` takes exactly one name".into());
                };
                if !valid_name(name) {
                    return Err(format!(
                        "bad calendar name `{name}`: use only letters, digits, `-` and `_`"
                    ));
                }
                self.name = Some((name.to_owned(), line));
            }
            "covers" => {
                check_once("covers", &self.covers)?;
                let mut dates = fields(rest);
                let (Some(first), Some(last), None) = (dates.next(), dates.next(), dates.next())
                else {
                    return Err("`covers` takes exactly two dates: FIRST LAST".into());
                };
                let (first, last) = (parse_date(first)?, parse_date(last)?);
                if first > last {
                    return Err(format!(
                        "`covers` range is empty: {first} is after {last}"
                    ));
                }
                self.covers = Some(((first, last), line));
            }
            "weekend" => {
                check_once("weekend", &self.weekend)?;
                let mut mask = 0u8;
                for day in fields(rest) {
                    let weekday = parse_weekday(day).ok_or_else(|| {
                        format!(
                            "unknown weekday `{day}` (expected a full lowercase English name such as `saturday`)"
                        )
                    })?;
                    let bit = 1u8 << weekday.num_days_from_monday();
                    if mask & bit != 0 {
                        return Err(format!("`weekend` lists `{day}` twice"));
                    }
                    mask |= bit;
                }
                self.weekend = Some((mask, line));
            }
            _ if head.starts_with(|c: char| c.is_ascii_digit()) => {
                let date = parse_date(head)?;
                let Some((kind, occasion)) = next_field(rest) else {
                    return Err(format!(
                        "missing entry kind after {date} (expected `holiday` or `workday`)"
                    ));
                };
                let kind = match kind {
                    "holiday" => Kind::Holiday,
                    "workday" => Kind::Workday,
                    _ => {
                        return Err(format!(
                            "unknown entry kind `{kind}` (expected `holiday` or `workday`)"
                        ))
                    }
                };
                if occasion.trim_end_matches(is_separator).is_empty() {
                    return Err(format!("missing occasion after `{date} {kind}`"));
                }
                self.entries.push(Entry { line, date, kind });
            }
            _ => {
                return Err(format!(
                    "unknown directive `{head}` (expected `name`, `covers`, `weekend` or a dated entry)"
                ))
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Calendar, CalendarFileError> {
        let Some((name, _)) = &self.name else {
            return Err(self.error(1, "missing `name` line (e.g. `name cn`)"));
        };
        let Some(((first, last), _)) = self.covers else {
            return Err(self.error(
                1,
                "missing `covers` line (e.g. `covers 2018-01-01 2026-12-31`)",
            ));
        };
        let Some((weekend, _)) = self.weekend else {
            return Err(self.error(1, "missing `weekend` line (e.g. `weekend saturday sunday`)"));
        };

        // Both dates come from four-digit years, so the span is at most a few million days.
        let span = last.signed_duration_since(first).num_days() + 1;
        let span = usize::try_from(span).unwrap_or(0);
        let mut working = vec![0u64; span.div_ceil(64)];
        let mut weekday = first.weekday();
        for i in 0..span {
            if weekend & (1 << weekday.num_days_from_monday()) == 0 {
                working[i / 64] |= 1 << (i % 64);
            }
            weekday = weekday.succ();
        }

        // Which covered dates an entry has listed, to catch duplicates.
        let mut listed = vec![0u64; working.len()];
        for (n, entry) in self.entries.iter().enumerate() {
            if !(first..=last).contains(&entry.date) {
                return Err(self.error(
                    entry.line,
                    format!(
                        "{} is outside the covered range {first} to {last}",
                        entry.date
                    ),
                ));
            }
            let i = entry.date.signed_duration_since(first).num_days() as usize;
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            if listed[word] & bit != 0 {
                let earlier = self.entries[..n]
                    .iter()
                    .find(|e| e.date == entry.date)
                    .map_or(0, |e| e.line);
                return Err(self.error(
                    entry.line,
                    format!("{} is listed twice (first on line {earlier})", entry.date),
                ));
            }
            listed[word] |= bit;
            match entry.kind {
                Kind::Holiday => working[word] &= !bit,
                Kind::Workday => working[word] |= bit,
            }
        }

        Ok(Calendar {
            name: name.clone(),
            first,
            last,
            first_day: first.signed_duration_since(EPOCH).num_days(),
            days: last.signed_duration_since(first).num_days() + 1,
            working,
        })
    }
}

fn check_once<T>(directive: &str, seen: &Option<(T, usize)>) -> Result<(), String> {
    match seen {
        Some((_, line)) => Err(format!(
            "duplicate `{directive}` line (first given on line {line})"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
