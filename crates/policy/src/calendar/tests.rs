use super::*;

const CN: &str = include_str!("../../../../policies/calendars/cn.calendar");

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cn() -> Calendar {
    Calendar::parse("policies/calendars/cn.calendar", CN).unwrap()
}

/// `cn` + n business days, as a string for compact assertions.
fn add(date: &str, n: i64) -> String {
    cn().add_business_days(d(date), n).unwrap().to_string()
}

fn out_of_cn(date: &str) -> OutOfCalendar {
    OutOfCalendar {
        calendar: "cn".into(),
        date: d(date),
        first: d("2018-01-01"),
        last: d("2026-12-31"),
    }
}

/// The obvious day-by-day definition, to check the word-at-a-time implementation against.
fn reference_add(cal: &Calendar, date: NaiveDate, n: i64) -> Result<NaiveDate, OutOfCalendar> {
    let step = if n > 0 { 1 } else { -1 };
    let mut left = n.abs();
    let mut day = date;
    while left > 0 {
        day = shift(day, step);
        if cal.is_working_day(day)? {
            left -= 1;
        }
    }
    Ok(day)
}

// --- the shipped `cn` calendar ----------------------------------------------------------------

#[test]
fn shipped_cn_calendar_parses() {
    let cal = cn();
    assert_eq!(cal.name(), "cn");
    assert_eq!(cal.first(), d("2018-01-01"));
    assert_eq!(cal.last(), d("2026-12-31"));
    assert!(cal.covers(d("2018-01-01")) && cal.covers(d("2026-12-31")));
    assert!(!cal.covers(d("2017-12-31")) && !cal.covers(d("2027-01-01")));
    // Totals computed independently from the source data.
    let count = |from: &str, to: &str| {
        d(from)
            .iter_days()
            .take_while(|day| *day <= d(to))
            .filter(|day| cal.is_working_day(*day).unwrap())
            .count()
    };
    assert_eq!(count("2018-01-01", "2026-12-31"), 2244);
    assert_eq!(count("2018-01-01", "2018-12-31"), 250);
    assert_eq!(count("2026-01-01", "2026-12-31"), 248);
}

#[test]
fn working_day_status() {
    let cal = cn();
    let working = |s: &str| cal.is_working_day(d(s)).unwrap();
    assert!(working("2026-03-06")); // ordinary Friday
    assert!(!working("2026-03-07")); // ordinary Saturday
    assert!(!working("2026-03-08")); // ordinary Sunday
    assert!(!working("2018-01-01")); // New Year's Day, a Monday
    assert!(working("2026-02-14")); // Saturday make-up day
    assert!(!working("2026-02-16")); // Spring Festival, a Monday
    assert!(working("2026-09-20")); // Sunday make-up day
    assert!(!working("2026-10-01")); // National Day, a Thursday
    assert!(working("2026-12-31"));
    assert_eq!(
        cal.is_working_day(d("2027-01-01")),
        Err(out_of_cn("2027-01-01"))
    );
    assert_eq!(
        cal.is_working_day(d("2017-12-31")),
        Err(out_of_cn("2017-12-31"))
    );
}

#[test]
fn ordinary_weeks() {
    assert_eq!(add("2026-03-06", 1), "2026-03-09"); // Friday + 1 = Monday
    assert_eq!(add("2026-03-07", 1), "2026-03-09"); // Saturday + 1 = Monday
    assert_eq!(add("2026-03-08", 1), "2026-03-09"); // Sunday + 1 = Monday
    assert_eq!(add("2026-03-09", 5), "2026-03-16");
}

#[test]
fn negative_counts_go_strictly_before() {
    assert_eq!(add("2026-03-09", -1), "2026-03-06"); // Monday - 1 = Friday
    assert_eq!(add("2026-03-08", -1), "2026-03-06"); // Sunday - 1 = Friday
    assert_eq!(add("2026-03-11", -5), "2026-03-04"); // Wednesday - 5 = last Wednesday
}

#[test]
fn zero_is_the_date_itself_without_lookup() {
    let cal = cn();
    assert_eq!(add("2026-03-07", 0), "2026-03-07"); // even on a rest day
                                                    // No lookup, so even uncovered dates are fine.
    for s in ["1999-05-05", "2027-01-01", "2017-12-31"] {
        assert_eq!(cal.add_business_days(d(s), 0), Ok(d(s)));
    }
}

#[test]
fn spring_festival_2026() {
    // Holidays 2026-02-15..02-23; make-up workdays Sat 02-14 and Sat 02-28.
    assert_eq!(add("2026-02-13", 1), "2026-02-14"); // Fri + 1 = the Saturday make-up day
    assert_eq!(add("2026-02-14", 1), "2026-02-24"); // across the whole holiday
    assert_eq!(add("2026-02-15", 1), "2026-02-24"); // from inside the holiday
    assert_eq!(add("2026-02-27", 1), "2026-02-28"); // Fri + 1 = the second make-up Saturday
    assert_eq!(add("2026-02-13", 15), "2026-03-12");
    assert_eq!(add("2026-03-12", -15), "2026-02-13");
    assert_eq!(add("2026-02-24", -1), "2026-02-14");
    assert_eq!(add("2026-02-24", -2), "2026-02-13");
}

#[test]
fn national_day_2026() {
    // Holidays 09-25..09-27 and 10-01..10-07; make-up workdays Sun 09-20 and Sat 10-10.
    assert_eq!(add("2026-09-30", 1), "2026-10-08");
    assert_eq!(add("2026-10-09", 1), "2026-10-10");
    assert_eq!(add("2026-09-19", 1), "2026-09-20");
    assert_eq!(add("2026-10-08", -1), "2026-09-30");
    assert_eq!(add("2026-09-21", -1), "2026-09-20");
}

#[test]
fn new_year_2026_make_up_sunday() {
    // Holidays 2026-01-01..01-03, make-up workday Sun 01-04.
    assert_eq!(add("2025-12-31", 1), "2026-01-04");
    assert_eq!(add("2026-01-05", -1), "2026-01-04");
}

#[test]
fn revoke_example() {
    // Working days strictly before Sat 4 July 2026: 3 Jul, 2 Jul, 1 Jul, 30 Jun, 29 Jun.
    assert_eq!(add("2026-07-04", -5), "2026-06-29");
}

#[test]
fn range_edges() {
    let cal = cn();
    // 2018-01-01 is a holiday: 2, 3, 4, 5, 8 January.
    assert_eq!(add("2017-12-31", 5), "2018-01-08");
    let err = cal.add_business_days(d("2017-12-29"), 5).unwrap_err();
    assert_eq!(err, out_of_cn("2017-12-30"));
    assert_eq!(
        err.to_string(),
        "calendar `cn` does not cover 2017-12-30 (it covers 2018-01-01 to 2026-12-31)"
    );
    assert_eq!(
        cal.add_business_days(d("2026-12-31"), 1),
        Err(out_of_cn("2027-01-01"))
    );
    // Runs off the end part way through.
    assert_eq!(
        cal.add_business_days(d("2026-12-30"), 2),
        Err(out_of_cn("2027-01-01"))
    );
    // Backwards off the start.
    assert_eq!(add("2018-01-03", -1), "2018-01-02");
    assert_eq!(
        cal.add_business_days(d("2018-01-02"), -1),
        Err(out_of_cn("2017-12-31"))
    );
    assert_eq!(
        cal.add_business_days(d("2018-01-01"), -1),
        Err(out_of_cn("2017-12-31"))
    );
    // Coming back in from after the end.
    assert_eq!(add("2027-01-01", -1), "2026-12-31");
    assert_eq!(
        cal.add_business_days(d("2027-01-05"), -3),
        Err(out_of_cn("2027-01-04"))
    );
    // Going away from the range fails on the first date consulted.
    assert_eq!(
        cal.add_business_days(d("2017-06-01"), -1),
        Err(out_of_cn("2017-05-31"))
    );
    assert_eq!(
        cal.add_business_days(d("2030-06-01"), 1),
        Err(out_of_cn("2030-06-02"))
    );
}

#[test]
fn huge_counts_stop_at_the_edge() {
    let cal = cn();
    assert_eq!(
        cal.add_business_days(d("2020-01-01"), i64::MAX),
        Err(out_of_cn("2027-01-01"))
    );
    assert_eq!(
        cal.add_business_days(d("2020-01-01"), i64::MIN),
        Err(out_of_cn("2017-12-31"))
    );
    assert_eq!(add("2017-12-31", 2244), "2026-12-31");
    assert_eq!(
        cal.add_business_days(d("2017-12-31"), 2245),
        Err(out_of_cn("2027-01-01"))
    );
    assert_eq!(add("2027-01-01", -2244), "2018-01-02");
}

#[test]
fn extreme_dates_do_not_overflow() {
    let cal = cn();
    let err = cal.add_business_days(NaiveDate::MAX, 1).unwrap_err();
    assert_eq!(err.date, NaiveDate::MAX);
    let err = cal.add_business_days(NaiveDate::MIN, -1).unwrap_err();
    assert_eq!(err.date, NaiveDate::MIN);
    let err = cal.add_business_days(NaiveDate::MIN, 3).unwrap_err();
    assert_eq!(err.date, shift(NaiveDate::MIN, 1));
    let err = cal.add_business_days(NaiveDate::MAX, -3).unwrap_err();
    assert_eq!(err.date, shift(NaiveDate::MAX, -1));
}

#[test]
fn matches_day_by_day_reference_on_cn() {
    let cal = cn();
    let mut day = d("2017-12-20");
    while day <= d("2027-01-10") {
        for n in (-40..=40).chain([-300, 300, -1000, 1000]) {
            assert_eq!(
                cal.add_business_days(day, n),
                reference_add(&cal, day, n),
                "{day} + {n}"
            );
        }
        day = shift(day, 1);
    }
}

#[test]
fn matches_reference_on_small_calendars() {
    // Spans around word boundaries, including a single day.
    for span in [1, 2, 63, 64, 65, 127, 128, 129, 200] {
        let first = d("2024-01-03");
        let last = shift(first, span - 1);
        let text = format!(
            "name t\ncovers {first} {last}\nweekend saturday sunday\n\
             2024-01-03 holiday x\n2024-01-06 workday y\n"
        );
        let text = if span < 4 {
            format!("name t\ncovers {first} {last}\nweekend saturday sunday\n")
        } else {
            text
        };
        let cal = Calendar::parse("t", &text).unwrap();
        let mut day = shift(first, -3);
        while day <= shift(last, 3) {
            for n in -(span + 3)..=(span + 3) {
                assert_eq!(
                    cal.add_business_days(day, n),
                    reference_add(&cal, day, n),
                    "span {span}: {day} + {n}"
                );
            }
            day = shift(day, 1);
        }
    }
}

// --- the file format --------------------------------------------------------------------------

#[test]
fn format_details() {
    let text = "\r\n\
        # leading comment\r\n\
        \tweekend\t \tsunday   saturday # trailing comment\r\n\
        2024-01-06\t\tworkday   make  up   day  \r\n\
        covers 2024-01-01    2024-01-31\r\n\
        \r\n\
        name\tsmall_cal-1\r\n\
        2024-01-02 holiday Some   occasion   # comment\r\n\
        2024-01-07 holiday on a sunday: redundant but allowed\r\n\
        2024-01-08 workday already working: allowed\r\n";
    let cal = Calendar::parse("inline", text).unwrap();
    assert_eq!(cal.name(), "small_cal-1");
    assert_eq!(
        (cal.first(), cal.last()),
        (d("2024-01-01"), d("2024-01-31"))
    );
    let working = |s: &str| cal.is_working_day(d(s)).unwrap();
    assert!(working("2024-01-01"));
    assert!(!working("2024-01-02"));
    assert!(working("2024-01-06")); // a Saturday make-up day
    assert!(!working("2024-01-07"));
    assert!(working("2024-01-08"));
    assert!(!working("2024-01-13"));
}

#[test]
fn byte_order_mark_is_ignored() {
    let cal = Calendar::parse("t", &format!("\u{feff}# c\n{HEAD}")).unwrap();
    assert_eq!(cal.name(), "t");
}

#[test]
fn empty_weekend_means_every_day_works() {
    let cal = Calendar::parse(
        "t",
        "name all\ncovers 2024-01-01 2024-01-31\nweekend\n2024-01-10 holiday x\n",
    )
    .unwrap();
    assert!(cal.is_working_day(d("2024-01-06")).unwrap());
    assert_eq!(
        cal.add_business_days(d("2024-01-09"), 1),
        Ok(d("2024-01-11"))
    );
}

#[test]
fn other_weekends() {
    let cal = Calendar::parse(
        "t",
        "name ae\ncovers 2024-01-01 2024-12-31\nweekend friday saturday\n",
    )
    .unwrap();
    // Thursday + 1 = Sunday.
    assert_eq!(
        cal.add_business_days(d("2024-01-04"), 1),
        Ok(d("2024-01-07"))
    );
}

/// Parses `text`, expecting an error at `line` with exactly `message`.
#[track_caller]
fn bad(text: &str, line: usize, message: &str) {
    let err = Calendar::parse("f.calendar", text).unwrap_err();
    assert_eq!(
        err,
        CalendarFileError {
            origin: "f.calendar".into(),
            line,
            message: message.into(),
        }
    );
    assert_eq!(err.to_string(), format!("f.calendar:{line}: {message}"));
}

const HEAD: &str = "name t\ncovers 2024-01-01 2024-12-31\nweekend saturday sunday\n";

#[test]
fn error_unknown_directive() {
    bad(
        &format!("{HEAD}# c\nholidays 2024-01-01\n"),
        5,
        "unknown directive `holidays` (expected `name`, `covers`, `weekend` or a dated entry)",
    );
}

#[test]
fn error_unknown_kind() {
    bad(
        &format!("{HEAD}2024-01-01 vacation New Year\n"),
        4,
        "unknown entry kind `vacation` (expected `holiday` or `workday`)",
    );
    bad(
        &format!("{HEAD}2024-01-01 Holiday New Year\n"),
        4,
        "unknown entry kind `Holiday` (expected `holiday` or `workday`)",
    );
}

#[test]
fn error_missing_kind_or_occasion() {
    bad(
        &format!("{HEAD}2024-01-01   # no kind\n"),
        4,
        "missing entry kind after 2024-01-01 (expected `holiday` or `workday`)",
    );
    bad(
        &format!("{HEAD}\n2024-01-01 holiday \t\n"),
        5,
        "missing occasion after `2024-01-01 holiday`",
    );
}

#[test]
fn error_bad_date() {
    bad(
        &format!("{HEAD}2024-1-01 holiday x\n"),
        4,
        "bad date `2024-1-01`: expected YYYY-MM-DD",
    );
    bad(
        &format!("{HEAD}2024-02-30 holiday x\n"),
        4,
        "bad date `2024-02-30`: no such day",
    );
    bad(
        &format!("{HEAD}20240101 holiday x\n"),
        4,
        "bad date `20240101`: expected YYYY-MM-DD",
    );
    bad(
        "name t\ncovers 2024-01-01 2024-13-01\n",
        2,
        "bad date `2024-13-01`: no such day",
    );
    bad(
        "name t\ncovers 2024-01-01 +2024-12-31\n",
        2,
        "bad date `+2024-12-31`: expected YYYY-MM-DD",
    );
}

#[test]
fn error_date_outside_covers() {
    bad(
        &format!("{HEAD}2024-03-01 holiday x\n2025-01-01 holiday New Year\n"),
        5,
        "2025-01-01 is outside the covered range 2024-01-01 to 2024-12-31",
    );
    // Also when the entry comes before the `covers` line.
    bad(
        "2023-12-31 holiday x\nname t\ncovers 2024-01-01 2024-12-31\nweekend\n",
        1,
        "2023-12-31 is outside the covered range 2024-01-01 to 2024-12-31",
    );
}

#[test]
fn error_date_listed_twice() {
    bad(
        &format!("{HEAD}2024-05-01 holiday a\n2024-05-02 holiday b\n2024-05-01 holiday a\n"),
        6,
        "2024-05-01 is listed twice (first on line 4)",
    );
    bad(
        &format!("{HEAD}2024-05-04 workday a\n2024-05-04 holiday b\n"),
        5,
        "2024-05-04 is listed twice (first on line 4)",
    );
}

#[test]
fn error_missing_directives() {
    bad(
        "covers 2024-01-01 2024-12-31\nweekend saturday sunday\n",
        1,
        "missing `name` line (e.g. `name cn`)",
    );
    bad(
        "name t\nweekend saturday sunday\n",
        1,
        "missing `covers` line (e.g. `covers 2018-01-01 2026-12-31`)",
    );
    bad(
        "name t\ncovers 2024-01-01 2024-12-31\n",
        1,
        "missing `weekend` line (e.g. `weekend saturday sunday`)",
    );
    bad("", 1, "missing `name` line (e.g. `name cn`)");
}

#[test]
fn error_duplicate_directives() {
    bad(
        &format!("{HEAD}name u\n"),
        4,
        "duplicate `name` line (first given on line 1)",
    );
    bad(
        &format!("{HEAD}\ncovers 2024-01-01 2024-12-31\n"),
        5,
        "duplicate `covers` line (first given on line 2)",
    );
    bad(
        &format!("{HEAD}weekend sunday\n"),
        4,
        "duplicate `weekend` line (first given on line 3)",
    );
}

#[test]
fn error_bad_directive_arguments() {
    bad("name\n", 1, "`name` takes exactly one name");
    bad("name a b\n", 1, "`name` takes exactly one name");
    bad(
        "name c/n\n",
        1,
        "bad calendar name `c/n`: use only letters, digits, `-` and `_`",
    );
    bad(
        "name t\ncovers 2024-01-01\n",
        2,
        "`covers` takes exactly two dates: FIRST LAST",
    );
    bad(
        "name t\ncovers 2024-01-01 2024-02-01 2024-03-01\n",
        2,
        "`covers` takes exactly two dates: FIRST LAST",
    );
    bad(
        "name t\ncovers 2024-12-31 2024-01-01\n",
        2,
        "`covers` range is empty: 2024-12-31 is after 2024-01-01",
    );
}

#[test]
fn error_unknown_or_repeated_weekday() {
    bad(
        "name t\ncovers 2024-01-01 2024-12-31\nweekend saturday Sunday\n",
        3,
        "unknown weekday `Sunday` (expected a full lowercase English name such as `saturday`)",
    );
    bad(
        "name t\ncovers 2024-01-01 2024-12-31\nweekend sat sun\n",
        3,
        "unknown weekday `sat` (expected a full lowercase English name such as `saturday`)",
    );
    bad(
        "name t\ncovers 2024-01-01 2024-12-31\nweekend sunday saturday sunday\n",
        3,
        "`weekend` lists `sunday` twice",
    );
}

#[test]
fn single_day_calendar() {
    let cal = Calendar::parse("t", "name one\ncovers 2024-01-01 2024-01-01\nweekend\n").unwrap();
    assert_eq!(
        cal.add_business_days(d("2023-12-31"), 1),
        Ok(d("2024-01-01"))
    );
    assert_eq!(
        cal.add_business_days(d("2024-01-02"), -1),
        Ok(d("2024-01-01"))
    );
    assert_eq!(
        cal.add_business_days(d("2023-12-31"), 2).unwrap_err().date,
        d("2024-01-02")
    );
}

/// On day numbers, business days are the same as on dates, errors included, at both ends of the
/// calendar.
#[test]
fn business_days_on_day_numbers_agree_with_dates() {
    let cal = cn();
    let epoch = d("1970-01-01");
    for start in [
        d("2017-12-20"),
        d("2018-01-01"),
        d("2021-02-10"),
        d("2026-12-20"),
        d("2027-01-05"),
    ] {
        for offset in 0..20 {
            let date = start + chrono::Days::new(offset);
            let day = date.signed_duration_since(epoch).num_days();
            for n in [-30, -15, -1, 0, 1, 5, 15, 30] {
                let by_date = cal
                    .add_business_days(date, n)
                    .map(|r| r.signed_duration_since(epoch).num_days());
                assert_eq!(
                    cal.add_business_days_to_day(day, n),
                    by_date,
                    "{date} + {n}"
                );
            }
        }
    }
}
