//! Calendar files: `policy::calendar::Calendar::parse`; for a calendar that parses, business-day
//! arithmetic is compared with a day-by-day count over `is_working_day` near both ends of its range.
#![no_main]

use chrono::{Days, NaiveDate};
use libfuzzer_sys::fuzz_target;
use policy::calendar::Calendar;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(calendar) = Calendar::parse("fuzz.calendar", text) else {
        return;
    };
    assert!(calendar.first() <= calendar.last(), "empty range accepted");
    let mut probes = Vec::new();
    for base in [calendar.first(), calendar.last()] {
        for delta in -3i64..=3 {
            if let Some(d) = shift(base, delta) {
                probes.push(d);
            }
        }
    }
    for &date in &probes {
        assert_eq!(calendar.covers(date), calendar.is_working_day(date).is_ok());
        for n in [-9i64, -2, -1, 0, 1, 2, 9] {
            let fast = calendar.add_business_days(date, n).ok();
            assert_eq!(fast, slow(&calendar, date, n), "{date} + {n} business days");
        }
        let _ = calendar.add_business_days(date, i64::MAX);
        let _ = calendar.add_business_days(date, i64::MIN);
    }
});

fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

/// `date + n business days` counted one day at a time; `None` when a consulted day is not covered.
fn slow(calendar: &Calendar, date: NaiveDate, n: i64) -> Option<NaiveDate> {
    let step = n.signum();
    let mut left = n.unsigned_abs();
    let mut day = date;
    while left > 0 {
        day = shift(day, step)?;
        if calendar.is_working_day(day).ok()? {
            left -= 1;
        }
    }
    Some(day)
}
