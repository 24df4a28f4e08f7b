//! Arrow batches of orders in, a batch of decisions out: each row read straight from its typed
//! columns (`Versions::decide_values_into`, no JSON text), decided on worker threads, and written
//! to typed columns, one row per input row, in order.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike, NaiveDate};
use policy::contract::DECISION_FIELDS;
use policy::eval::{FieldType, FieldValue};
use policy::{Decision, Instant, Order, OrderError, Versions, ZonedInstant};
use rust_decimal::Decimal;

/// The columns that say why a row could not be decided, after the contract's fields.
pub const ERROR_COLUMNS: [&str; 3] = ["error", "error_code", "error_fields"];

/// The columns of a batch of decisions, in order: the contract's fields (`DECISION_FIELDS`, the one
/// list of them), then [`ERROR_COLUMNS`].
pub const COLUMNS: [&str; DECISION_FIELDS.len() + ERROR_COLUMNS.len()] = {
    let mut columns = [""; DECISION_FIELDS.len() + ERROR_COLUMNS.len()];
    let mut i = 0;
    while i < DECISION_FIELDS.len() {
        columns[i] = DECISION_FIELDS[i];
        i += 1;
    }
    let mut j = 0;
    while j < ERROR_COLUMNS.len() {
        columns[DECISION_FIELDS.len() + j] = ERROR_COLUMNS[j];
        j += 1;
    }
    columns
};

/// The `values` of a decision whose rule names none: one text (one address), so that a batch of
/// them is the text repeated (see [`Repeated`]).
static EMPTY_OBJECT: &str = "{}";

/// The scale of the `amount` column (`decimal128(38, 4)`): ISO 4217's largest number of minor units.
pub const AMOUNT_SCALE: u32 = 4;

/// Below this many rows a batch is decided on the calling thread.
const ROWS_PER_THREAD: usize = 2048;

/// Why a batch as a whole cannot be decided (a row that cannot be is an error row instead).
pub enum BatchError {
    /// A column the policy reads has a type no field reads.
    Schema(String),
    /// Arrow could not read or build a batch.
    Arrow(String),
}

impl From<arrow_schema::ArrowError> for BatchError {
    fn from(error: arrow_schema::ArrowError) -> Self {
        BatchError::Arrow(error.to_string())
    }
}

/// Decides every row of every batch `reader` gives, into one batch of decisions.
pub fn decide_reader(
    versions: &Versions,
    action: &str,
    now: Instant,
    reader: Box<dyn RecordBatchReader + Send>,
    threads: usize,
) -> Result<RecordBatch, BatchError> {
    let zone: Arc<str> = Arc::from(versions.latest().zone().name());
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch?;
        out.extend(decide_batch(versions, action, now, &batch, threads, &zone)?);
    }
    if out.len() == 1 {
        if let Some(only) = out.pop() {
            return Ok(only);
        }
    }
    let empty = Out::new(0, &zone, None).finish()?;
    if out.is_empty() {
        return Ok(empty);
    }
    Ok(arrow_select::concat::concat_batches(&empty.schema(), &out)?)
}

fn decide_batch(
    versions: &Versions,
    action: &str,
    now: Instant,
    batch: &RecordBatch,
    threads: usize,
    zone: &Arc<str>,
) -> Result<Vec<RecordBatch>, BatchError> {
    // Each version's fields, by slot, to the column of that name (prepared once for every version).
    let schema = batch.schema();
    let mut prepared: Vec<(String, ArrayRef, Kind)> = Vec::new();
    let mut slots: Vec<Vec<Option<usize>>> = Vec::new();
    for policy in versions.all() {
        let mut of_version = Vec::new();
        for field in policy.fields() {
            let name = field.name();
            let at = match prepared.iter().position(|(n, _, _)| n == name) {
                Some(at) => Some(at),
                None => match schema.index_of(name) {
                    Ok(column) => {
                        let (array, kind) = prepare(name, batch.column(column))?;
                        prepared.push((name.to_string(), array, kind));
                        Some(prepared.len() - 1)
                    }
                    Err(_) => None,
                },
            };
            of_version.push(at);
        }
        slots.push(of_version);
    }
    let columns: Vec<Column<'_>> = prepared
        .iter()
        .map(|(_, array, kind)| Column::of(array, *kind))
        .collect();
    let readers: Vec<Vec<Option<&Column<'_>>>> = slots
        .iter()
        .map(|v| v.iter().map(|at| at.map(|at| &columns[at])).collect())
        .collect();
    // The input's `id` column, when each row's order is known to be its value: text, read by every
    // version as its `id`, a `string` field (the engine's order id is then that text, as given).
    let ids = prepared
        .iter()
        .find(|(name, _, kind)| name == "id" && matches!(kind, Kind::Str))
        .map(|(_, array, _)| array.as_string::<i32>())
        .filter(|_| {
            versions.all().iter().all(|policy| {
                policy
                    .fields()
                    .any(|field| field.name() == "id" && field.ty() == FieldType::String)
            })
        });
    let rows = batch.num_rows();
    let threads = threads.clamp(1, rows.div_ceil(ROWS_PER_THREAD).max(1));
    let chunk = rows.div_ceil(threads).max(1);
    let decide_rows = |start: usize, end: usize| -> Result<RecordBatch, BatchError> {
        let mut out = Out::new(end - start, zone, ids.map(|ids| (ids, start)));
        let mut order = Order::default();
        for row in start..end {
            let decided = versions.decide_values_into(action, &mut order, now, |v, slot, _| {
                match readers.get(v).and_then(|r| r.get(slot)) {
                    Some(Some(column)) => column.value(row),
                    _ => FieldValue::Null,
                }
            });
            match decided {
                Ok(decision) => out.push_decision(&decision),
                Err(error) => out.push_error(&error),
            }
        }
        out.finish()
    };
    if threads == 1 {
        return Ok(vec![decide_rows(0, rows)?]);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..rows)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(rows);
                scope.spawn(move || decide_rows(start, end))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(BatchError::Arrow("a worker thread panicked".into())))
            })
            .collect()
    })
}

/// How a column's values are read, once cast where needed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Null,
    Str,
    /// Numbers as text (floats, `uint64`, wide decimals): read as JSON numbers are.
    Number,
    Bool,
    Int,
    Decimal(u32),
    Timestamp(TimeUnit),
    Date,
}

/// The column as its kind reads it: cast to the one type of its kind, or refused.
fn prepare(name: &str, array: &ArrayRef) -> Result<(ArrayRef, Kind), BatchError> {
    use DataType as D;
    let cast = |to: &DataType| arrow_cast::cast(array, to);
    Ok(match array.data_type() {
        D::Null => (Arc::clone(array), Kind::Null),
        D::Utf8 => (Arc::clone(array), Kind::Str),
        D::LargeUtf8 | D::Utf8View => (cast(&D::Utf8)?, Kind::Str),
        D::Dictionary(_, value) if matches!(**value, D::Utf8 | D::LargeUtf8 | D::Utf8View) => {
            (cast(&D::Utf8)?, Kind::Str)
        }
        D::Boolean => (Arc::clone(array), Kind::Bool),
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 => {
            (cast(&D::Int64)?, Kind::Int)
        }
        D::UInt64 | D::Float16 | D::Float32 | D::Float64 | D::Decimal256(_, _) => {
            (cast(&D::Utf8)?, Kind::Number)
        }
        // 28 digits fit rust_decimal's 96 bits; wider ones are read from their text.
        D::Decimal128(precision, scale) if *precision <= 28 && (0..=28).contains(scale) => {
            (Arc::clone(array), Kind::Decimal(*scale as u32))
        }
        D::Decimal128(_, _) => (cast(&D::Utf8)?, Kind::Number),
        D::Timestamp(unit, Some(_)) => (Arc::clone(array), Kind::Timestamp(*unit)),
        D::Timestamp(_, None) => {
            return Err(BatchError::Schema(format!(
                "column `{name}` is a timestamp without a time zone: the contract reads instants \
                 only (give the column a zone, such as timestamp[us, tz=UTC], or RFC 3339 text \
                 with an offset)"
            )))
        }
        D::Date32 => (Arc::clone(array), Kind::Date),
        D::Date64 => (cast(&D::Date32)?, Kind::Date),
        other => {
            return Err(BatchError::Schema(format!(
                "column `{name}` has type {other}, which no field of a policy reads (strings, \
                 booleans, integers, decimals, timestamps with a zone, dates)"
            )))
        }
    })
}

/// A prepared column, downcast.
enum Column<'a> {
    Null,
    Str(&'a arrow_array::StringArray),
    Number(&'a arrow_array::StringArray),
    Bool(&'a arrow_array::BooleanArray),
    Int(&'a PrimitiveArray<Int64Type>),
    Decimal(&'a PrimitiveArray<Decimal128Type>, u32),
    Seconds(&'a PrimitiveArray<TimestampSecondType>),
    Millis(&'a PrimitiveArray<TimestampMillisecondType>),
    Micros(&'a PrimitiveArray<TimestampMicrosecondType>),
    Nanos(&'a PrimitiveArray<TimestampNanosecondType>),
    Date(&'a PrimitiveArray<Date32Type>),
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

impl<'a> Column<'a> {
    fn of(array: &'a ArrayRef, kind: Kind) -> Column<'a> {
        match kind {
            Kind::Null => Column::Null,
            Kind::Str => Column::Str(array.as_string::<i32>()),
            Kind::Number => Column::Number(array.as_string::<i32>()),
            Kind::Bool => Column::Bool(array.as_boolean()),
            Kind::Int => Column::Int(array.as_primitive()),
            Kind::Decimal(scale) => Column::Decimal(array.as_primitive(), scale),
            Kind::Timestamp(TimeUnit::Second) => Column::Seconds(array.as_primitive()),
            Kind::Timestamp(TimeUnit::Millisecond) => Column::Millis(array.as_primitive()),
            Kind::Timestamp(TimeUnit::Microsecond) => Column::Micros(array.as_primitive()),
            Kind::Timestamp(TimeUnit::Nanosecond) => Column::Nanos(array.as_primitive()),
            Kind::Date => Column::Date(array.as_primitive()),
        }
    }

    #[inline(always)]
    fn value(&self, row: usize) -> FieldValue<'a> {
        // One match a value: the null test and the read of each kind together.
        match self {
            Column::Null => FieldValue::Null,
            Column::Str(a) if a.is_valid(row) => FieldValue::Str(a.value(row)),
            Column::Number(a) if a.is_valid(row) => FieldValue::Number(a.value(row)),
            Column::Bool(a) if a.is_valid(row) => FieldValue::Bool(a.value(row)),
            Column::Int(a) if a.is_valid(row) => FieldValue::Int(a.value(row)),
            Column::Decimal(a, scale) if a.is_valid(row) => {
                match Decimal::try_from_i128_with_scale(a.value(row), *scale) {
                    Ok(amount) => FieldValue::Money(amount),
                    // The column's precision says 28 digits; a value past them is refused as text.
                    Err(_) => FieldValue::Number("(a decimal128 beyond 28 digits)"),
                }
            }
            Column::Seconds(a) if a.is_valid(row) => instant(a.value(row), 1_000_000_000),
            Column::Millis(a) if a.is_valid(row) => instant(a.value(row), 1_000_000),
            Column::Micros(a) if a.is_valid(row) => instant(a.value(row), 1_000),
            Column::Nanos(a) if a.is_valid(row) => instant(a.value(row), 1),
            Column::Date(a) if a.is_valid(row) => match a
                .value(row)
                .checked_add(UNIX_EPOCH_FROM_CE)
                .and_then(NaiveDate::from_num_days_from_ce_opt)
            {
                Some(date) => FieldValue::Date(date),
                None => FieldValue::Str("(a date32 outside chrono's range)"),
            },
            _ => FieldValue::Null,
        }
    }
}

/// A timestamp of `nanos_per_unit` nanoseconds a unit as an instant; one outside years 0001 to
/// 9999 is given as text the intake refuses, naming its field.
fn instant(value: i64, nanos_per_unit: i64) -> FieldValue<'static> {
    let units_per_second = 1_000_000_000 / nanos_per_unit;
    // `div_euclid` and `rem_euclid` from one division.
    let (mut seconds, mut units) = (value / units_per_second, value % units_per_second);
    if units < 0 {
        seconds -= 1;
        units += units_per_second;
    }
    let nanos = units * nanos_per_unit;
    match u32::try_from(nanos)
        .ok()
        .and_then(|nanos| Instant::from_unix(seconds, nanos))
    {
        Some(instant) => FieldValue::Timestamp(instant),
        None => FieldValue::Str("(a timestamp outside years 0001 to 9999)"),
    }
}

/// The columns of one batch of decisions, built in place: a row costs a few stores a column, not
/// the checks of Arrow's general builders (a decision is a few thousand instructions; its row was a
/// third of that with them).
struct Out<'a> {
    order: Orders<'a>,
    policy: Repeated<'a>,
    version: Repeated<'a>,
    action: Repeated<'a>,
    outcome: Texts,
    amount: Values<i128>,
    currency: Texts,
    refund_to: Texts,
    requires: Lists,
    review: Texts,
    review_by: Values<i32>,
    deadline: Values<i64>,
    holds_until: Values<i64>,
    next_status: Texts,
    values: Repeated<'a>,
    rule: Texts,
    because: Reasons,
    /// The error columns: written when a row is an error, the rows before it given their nulls then,
    /// at once (most batches have few errors, or none).
    error: Texts,
    error_code: Texts,
    error_fields: Lists,
    /// The rows written so far.
    rows: usize,
    zone: Arc<str>,
}

impl<'a> Out<'a> {
    /// Builders for `rows` rows; `ids`, when given, is the input's `id` column from `start` on,
    /// which `order` is known to repeat (see [`Orders`]).
    fn new(
        rows: usize,
        zone: &Arc<str>,
        ids: Option<(&'a arrow_array::StringArray, usize)>,
    ) -> Out<'a> {
        // Sized for the whole chunk at once: growing a column copies it, and touches fresh pages.
        let text = || Texts::with_capacity(rows, rows * 16);
        let order = match ids {
            Some((ids, start)) => Orders::Input {
                ids,
                start,
                exceptions: Vec::new(),
            },
            None => Orders::Copied(text()),
        };
        Out {
            order,
            policy: Repeated::with_capacity(rows),
            version: Repeated::with_capacity(rows),
            action: Repeated::with_capacity(rows),
            outcome: text(),
            amount: Values::with_capacity(rows),
            currency: text(),
            refund_to: text(),
            requires: Lists::with_capacity(rows),
            review: text(),
            review_by: Values::with_capacity(rows),
            deadline: Values::with_capacity(rows),
            holds_until: Values::with_capacity(rows),
            next_status: text(),
            values: Repeated::with_capacity(rows),
            rule: text(),
            because: Reasons::new(rows),
            error: Texts::with_capacity(0, 0),
            error_code: Texts::with_capacity(0, 0),
            error_fields: Lists::with_capacity(0),
            rows: 0,
            zone: Arc::clone(zone),
        }
    }

    fn push_decision(&mut self, d: &Decision<'a>) {
        // What Arrow's types cannot hold exactly makes the row an error, never a rounded value.
        let amount = match d.amount.map(scaled_amount).transpose() {
            Ok(amount) => amount,
            Err(message) => return self.push_failure(d.order.as_deref(), &message),
        };
        let deadline = match d.deadline.as_ref().map(micros).transpose() {
            Ok(t) => t,
            Err(message) => return self.push_failure(d.order.as_deref(), &message),
        };
        let holds_until = match d.holds_until.as_ref().map(micros).transpose() {
            Ok(t) => t,
            Err(message) => return self.push_failure(d.order.as_deref(), &message),
        };
        self.order.push(self.rows, d.order.as_deref());
        self.policy.push_option(Some(d.policy));
        self.version.push_option(d.version);
        self.action.push_option(Some(d.action));
        self.outcome.push(d.outcome.as_str());
        self.amount.push_option(amount);
        self.currency.push_option(d.currency.as_deref());
        self.refund_to.push_option(d.refund_to);
        for step in d.requires {
            self.requires.items.push(step);
        }
        self.requires.end(true);
        self.review.push_option(d.review);
        self.review_by.push_option(
            d.review_by
                .map(|date| date.num_days_from_ce() - UNIX_EPOCH_FROM_CE),
        );
        self.deadline.push_option(deadline);
        self.holds_until.push_option(holds_until);
        self.next_status.push_option(d.next_status.as_deref());
        if d.values.is_empty() {
            self.values.push_option(Some(EMPTY_OBJECT));
        } else {
            // The JSON object written straight into the column's bytes.
            let values = self.values.texts();
            let json = &mut values.bytes;
            json.push(b'{');
            for (i, (name, value)) in d.values.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                // A field's name is an identifier: quoted as is when it needs no escape.
                if name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                    json.push(b'"');
                    json.extend_from_slice(name.as_bytes());
                    json.extend_from_slice(b"\":");
                } else {
                    // INVARIANT: strings always serialise.
                    let _ = serde_json::to_writer(&mut *json, name);
                    json.push(b':');
                }
                // INVARIANT: JSON values always serialise (as UTF-8).
                let _ = serde_json::to_writer(&mut *json, value);
            }
            json.push(b'}');
            values.end(true);
        }
        self.rule.push(d.rule);
        self.because.push(d.because);
        self.rows += 1;
    }

    fn push_error(&mut self, error: &OrderError) {
        let (code, problems) = crate::error_parts(error);
        self.push_nulls(error.order());
        self.error.push(&error.to_string());
        self.error_code.push(code);
        let mut fields: Vec<&str> = Vec::new();
        for (field, _) in &problems {
            if !fields.contains(&field.as_str()) {
                fields.push(field);
            }
        }
        for field in fields {
            self.error_fields.items.push(field);
        }
        self.error_fields.end(true);
        self.rows += 1;
    }

    /// A decision that Arrow's types cannot hold exactly.
    fn push_failure(&mut self, order: Option<&str>, message: &str) {
        self.push_nulls(order);
        let name = match order {
            Some(id) => format!("order `{id}`"),
            None => "order (no id)".into(),
        };
        self.error.push(&format!("{name}: {message}"));
        self.error_code.push("arrow");
        self.error_fields.end(true);
        self.rows += 1;
    }

    /// The decision's columns of an error row, null, and the error columns' nulls up to it.
    fn push_nulls(&mut self, order: Option<&str>) {
        self.order.push(self.rows, order);
        for text in [
            &mut self.outcome,
            &mut self.currency,
            &mut self.refund_to,
            &mut self.review,
            &mut self.next_status,
            &mut self.rule,
        ] {
            text.push_null();
        }
        for repeated in [
            &mut self.policy,
            &mut self.version,
            &mut self.action,
            &mut self.values,
        ] {
            repeated.push_option(None);
        }
        self.amount.push_option(None);
        self.requires.end(false);
        self.review_by.push_option(None);
        self.deadline.push_option(None);
        self.holds_until.push_option(None);
        self.because.push_null();
        self.fill_errors();
    }

    /// The error columns' nulls for the rows since the last error.
    fn fill_errors(&mut self) {
        let missing = self.rows - self.error_code.len();
        self.error.push_nulls(missing);
        self.error_code.push_nulls(missing);
        self.error_fields.push_nulls(missing);
    }

    fn finish(mut self) -> Result<RecordBatch, BatchError> {
        self.fill_errors();
        let zone = Some(Arc::clone(&self.zone));
        let arrays: [ArrayRef; 20] = [
            self.order.finish(self.rows)?,
            self.policy.finish()?,
            self.version.finish()?,
            self.action.finish()?,
            self.outcome.finish()?,
            Arc::new(
                self.amount
                    .finish::<Decimal128Type>()?
                    .with_precision_and_scale(38, AMOUNT_SCALE as i8)?,
            ),
            self.currency.finish()?,
            self.refund_to.finish()?,
            self.requires.finish()?,
            self.review.finish()?,
            Arc::new(self.review_by.finish::<Date32Type>()?),
            Arc::new(
                self.deadline
                    .finish::<TimestampMicrosecondType>()?
                    .with_timezone_opt(zone.clone()),
            ),
            Arc::new(
                self.holds_until
                    .finish::<TimestampMicrosecondType>()?
                    .with_timezone_opt(zone),
            ),
            self.next_status.finish()?,
            self.values.finish()?,
            self.rule.finish()?,
            self.because.finish()?,
            self.error.finish()?,
            self.error_code.finish()?,
            self.error_fields.finish()?,
        ];
        Ok(RecordBatch::try_from_iter_with_nullable(
            COLUMNS
                .iter()
                .zip(arrays)
                .map(|(name, array)| (name, array, true)),
        )?)
    }
}

/// The validity of a column's rows; `None` when every row is valid.
fn nulls(valid: Vec<bool>) -> Option<arrow_buffer::NullBuffer> {
    if !valid.contains(&false) {
        return None;
    }
    // Eight rows a byte, least significant bit first (Arrow's `From<&[bool]>` takes a bit at a time).
    let mut bits = Vec::with_capacity(valid.len().div_ceil(8));
    let eights = valid.chunks_exact(8);
    let rest = eights.remainder();
    for eight in eights {
        // Eight 0-or-1 bytes gathered into the top byte by one multiplication.
        let bytes = u64::from_le_bytes([
            u8::from(eight[0]),
            u8::from(eight[1]),
            u8::from(eight[2]),
            u8::from(eight[3]),
            u8::from(eight[4]),
            u8::from(eight[5]),
            u8::from(eight[6]),
            u8::from(eight[7]),
        ]);
        bits.push((bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8);
    }
    if !rest.is_empty() {
        let mut byte = 0u8;
        for (i, valid) in rest.iter().enumerate() {
            byte |= u8::from(*valid) << i;
        }
        bits.push(byte);
    }
    let bits =
        arrow_buffer::BooleanBuffer::new(arrow_buffer::Buffer::from_vec(bits), 0, valid.len());
    Some(arrow_buffer::NullBuffer::new(bits))
}

/// Whether a column's bytes (or a list's items) fit the 32-bit offsets of Arrow's `string` and
/// `list` types, which the rows' offsets were written as.
fn fits(len: usize) -> Result<(), BatchError> {
    i32::try_from(len).map(|_| ()).map_err(|_| {
        BatchError::Arrow(
            "a column of decisions would hold more than 2 GiB: give decide_batch smaller batches"
                .into(),
        )
    })
}

/// A `string` column: its bytes, each row's end offset, and which rows are valid.
struct Texts {
    bytes: Vec<u8>,
    /// 0, then each row's end: written with `as`, the bytes checked to fit `i32` when finished.
    offsets: Vec<i32>,
    valid: Vec<bool>,
}

impl Texts {
    fn with_capacity(rows: usize, bytes: usize) -> Texts {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Texts {
            bytes: Vec::with_capacity(bytes),
            offsets,
            valid: Vec::with_capacity(rows),
        }
    }

    fn len(&self) -> usize {
        self.valid.len()
    }

    #[inline(always)]
    fn push(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.end(true);
    }

    /// Ends a row whose bytes were written into `bytes`.
    #[inline(always)]
    fn end(&mut self, valid: bool) {
        self.offsets.push(self.bytes.len() as i32);
        self.valid.push(valid);
    }

    #[inline]
    fn push_null(&mut self) {
        self.end(false);
    }

    #[inline(always)]
    fn push_option(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.push(text),
            None => self.push_null(),
        }
    }

    fn push_nulls(&mut self, n: usize) {
        let end = self.bytes.len() as i32;
        self.offsets.resize(self.offsets.len() + n, end);
        self.valid.resize(self.valid.len() + n, false);
    }

    fn finish(self) -> Result<ArrayRef, BatchError> {
        Ok(Arc::new(self.into_array()?))
    }

    fn into_array(self) -> Result<arrow_array::StringArray, BatchError> {
        if self.bytes.is_empty() && !self.valid.contains(&true) {
            // Every row null (the error columns of a batch without errors): nothing to validate.
            return Ok(arrow_array::StringArray::new_null(self.valid.len()));
        }
        fits(self.bytes.len())?;
        Ok(arrow_array::StringArray::try_new(
            arrow_buffer::OffsetBuffer::new(self.offsets.into()),
            arrow_buffer::Buffer::from_vec(self.bytes),
            nulls(self.valid),
        )?)
    }
}

/// A `string` column that holds one text of the policy in every row but the error rows (its name,
/// the action, the version): the rows' validity kept while every valid row has that text (by
/// address), and the column written as Arrow's repeated text, nulled where a row is null, when
/// finished; written row by row from the first row with another text.
struct Repeated<'a> {
    text: Option<&'a str>,
    valid: Vec<bool>,
    /// The rows, once one has another text.
    texts: Option<Texts>,
}

impl<'a> Repeated<'a> {
    fn with_capacity(rows: usize) -> Repeated<'a> {
        Repeated {
            text: None,
            valid: Vec::with_capacity(rows),
            texts: None,
        }
    }

    #[inline(always)]
    fn push_option(&mut self, text: Option<&'a str>) {
        if let Some(texts) = &mut self.texts {
            return texts.push_option(text);
        }
        match (self.text, text) {
            (_, None) => self.valid.push(false),
            (Some(first), Some(text)) if std::ptr::eq(first, text) => self.valid.push(true),
            (None, Some(text)) => {
                self.text = Some(text);
                self.valid.push(true);
            }
            (Some(_), Some(text)) => self.differ(text),
        }
    }

    /// A row has another text: the rows so far written out, then this one.
    #[cold]
    #[inline(never)]
    fn differ(&mut self, text: &str) {
        self.texts().push(text);
    }

    /// The column written row by row from now on (the rows so far written out, once).
    fn texts(&mut self) -> &mut Texts {
        let (first, valid) = (self.text, &self.valid);
        self.texts.get_or_insert_with(|| {
            let first = first.unwrap_or_default();
            let rows = valid.len();
            let mut texts = Texts::with_capacity(rows * 2, rows * first.len());
            for valid in valid {
                texts.push_option(valid.then_some(first));
            }
            texts
        })
    }

    fn finish(self) -> Result<ArrayRef, BatchError> {
        if let Some(texts) = self.texts {
            return texts.finish();
        }
        let rows = self.valid.len();
        let Some(text) = self.text else {
            return Ok(Arc::new(arrow_array::StringArray::new_null(rows)));
        };
        fits(text.len().saturating_mul(rows))?;
        let repeated = arrow_array::StringArray::new_repeated(text, rows);
        Ok(match nulls(self.valid) {
            None => Arc::new(repeated),
            // The null rows marked on the repeated text (`nullif` sets validity, checking nothing again).
            Some(valid) => arrow_select::nullif::nullif(
                &repeated,
                &arrow_array::BooleanArray::new(!valid.inner(), None),
            )?,
        })
    }
}

/// The rows of a list column: 0, then each row's end among the items, and which rows are valid.
/// Shared by the `list<string>` columns and the dictionary-keyed `because`.
struct ListRows {
    offsets: Vec<i32>,
    valid: Vec<bool>,
}

impl ListRows {
    fn with_capacity(rows: usize) -> ListRows {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        ListRows {
            offsets,
            valid: Vec::with_capacity(rows),
        }
    }

    /// Ends a row at `items` items in all: written with `as`, checked to fit `i32` by `finish`.
    #[inline]
    fn end(&mut self, items: usize, valid: bool) {
        self.offsets.push(items as i32);
        self.valid.push(valid);
    }

    /// `n` null rows, at `items` items in all.
    fn push_nulls(&mut self, n: usize, items: usize) {
        self.offsets.resize(self.offsets.len() + n, items as i32);
        self.valid.resize(self.valid.len() + n, false);
    }

    /// The list column of these rows over `items`, of which there are `count`.
    fn finish(self, items: ArrayRef, count: usize) -> Result<ArrayRef, BatchError> {
        fits(count)?;
        let item = Arc::new(arrow_schema::Field::new_list_field(
            items.data_type().clone(),
            true,
        ));
        Ok(Arc::new(arrow_array::ListArray::try_new(
            item,
            arrow_buffer::OffsetBuffer::new(self.offsets.into()),
            items,
            nulls(self.valid),
        )?))
    }
}

/// A `list<string>` column.
struct Lists {
    items: Texts,
    rows: ListRows,
}

impl Lists {
    fn with_capacity(rows: usize) -> Lists {
        Lists {
            items: Texts::with_capacity(0, 0),
            rows: ListRows::with_capacity(rows),
        }
    }

    /// Ends a row, its items pushed to `items`.
    #[inline]
    fn end(&mut self, valid: bool) {
        self.rows.end(self.items.len(), valid);
    }

    fn push_nulls(&mut self, n: usize) {
        self.rows.push_nulls(n, self.items.len());
    }

    fn finish(self) -> Result<ArrayRef, BatchError> {
        let count = self.items.len();
        self.rows.finish(Arc::new(self.items.into_array()?), count)
    }
}

/// A column of fixed-width values (amounts, dates, timestamps).
struct Values<T> {
    values: Vec<T>,
    valid: Vec<bool>,
}

impl<T: arrow_buffer::ArrowNativeType> Values<T> {
    fn with_capacity(rows: usize) -> Values<T> {
        Values {
            values: Vec::with_capacity(rows),
            valid: Vec::with_capacity(rows),
        }
    }

    #[inline]
    fn push_option(&mut self, value: Option<T>) {
        self.values.push(value.unwrap_or_default());
        self.valid.push(value.is_some());
    }

    fn finish<P: arrow_array::ArrowPrimitiveType<Native = T>>(
        self,
    ) -> Result<PrimitiveArray<P>, BatchError> {
        Ok(PrimitiveArray::<P>::try_new(
            self.values.into(),
            nulls(self.valid),
        )?)
    }
}

/// The `order` column. When the input's `id` column is text that every version reads as its `id`
/// (a `string` field), each row's order is that column's value: the input column itself is the
/// output's, shared rather than copied, save the rows whose order differs (a null id given the
/// field's default), kept aside and written over a copy.
enum Orders<'a> {
    Copied(Texts),
    Input {
        ids: &'a arrow_array::StringArray,
        start: usize,
        /// The rows whose order is not the input's id, with their order.
        exceptions: Vec<(usize, Option<String>)>,
    },
}

impl Orders<'_> {
    #[inline(always)]
    fn push(&mut self, row: usize, order: Option<&str>) {
        match self {
            Orders::Copied(texts) => texts.push_option(order),
            Orders::Input {
                ids,
                start,
                exceptions,
            } => {
                let at = *start + row;
                // The id read is the order's (see `decide_batch`): a check of its length suffices.
                let same = match order {
                    Some(order) => ids.is_valid(at) && ids.value_length(at) as usize == order.len(),
                    None => ids.is_null(at),
                };
                if !same {
                    exceptions.push((row, order.map(str::to_string)));
                }
            }
        }
    }

    fn finish(self, rows: usize) -> Result<ArrayRef, BatchError> {
        match self {
            Orders::Copied(texts) => texts.finish(),
            Orders::Input {
                ids,
                start,
                exceptions,
            } => {
                if exceptions.is_empty() {
                    return Ok(Arc::new(ids.slice(start, rows)));
                }
                let mut texts = Texts::with_capacity(rows, 0);
                let mut exceptions = exceptions.into_iter().peekable();
                for row in 0..rows {
                    match exceptions.next_if(|(at, _)| *at == row) {
                        Some((_, order)) => texts.push_option(order.as_deref()),
                        None => {
                            let at = start + row;
                            texts.push_option(ids.is_valid(at).then(|| ids.value(at)));
                        }
                    }
                }
                texts.finish()
            }
        }
    }
}

/// The `because` column: a list of reasons, each an index into the reasons seen, as Arrow's
/// `list<dictionary<int32, string>>`. A rule's reasons are the policy's own texts (a few hundred
/// bytes each, citing their source): each is copied once per chunk, not once per decision, and known
/// by its address in the policy, which outlives the batch.
struct Reasons {
    rows: ListRows,
    keys: Vec<i32>,
    /// Each rule's reasons seen (by the address of the rule's `Reasons`), with their keys: a policy
    /// has tens of rules, so a scan from the last one found beats hashing.
    rules: Vec<(usize, Vec<i32>)>,
    last: usize,
    /// Each reason text seen, by address and length, and its key.
    seen: Vec<(usize, usize)>,
    texts: Vec<String>,
}

impl Reasons {
    fn new(rows: usize) -> Reasons {
        Reasons {
            rows: ListRows::with_capacity(rows),
            keys: Vec::with_capacity(rows * 2),
            rules: Vec::new(),
            last: 0,
            seen: Vec::new(),
            texts: Vec::new(),
        }
    }

    fn push(&mut self, reasons: &policy::contract::Reasons) {
        let address = std::ptr::from_ref(reasons) as usize;
        let found = match self.rules.get(self.last) {
            Some((at, _)) if *at == address => Some(self.last),
            _ => self.rules.iter().position(|(at, _)| *at == address),
        };
        let at = match found {
            Some(at) => at,
            None => {
                let keys = reasons.iter().map(|reason| self.key(reason)).collect();
                self.rules.push((address, keys));
                self.rules.len() - 1
            }
        };
        self.last = at;
        if let Some((_, keys)) = self.rules.get(at) {
            self.keys.extend_from_slice(keys);
        }
        self.rows.end(self.keys.len(), true);
    }

    /// The key of one reason text, added to the dictionary when new.
    fn key(&mut self, reason: &str) -> i32 {
        let id = (reason.as_ptr() as usize, reason.len());
        let at = match self.seen.iter().position(|seen| *seen == id) {
            Some(at) => at,
            None => {
                self.seen.push(id);
                self.texts.push(reason.to_string());
                self.texts.len() - 1
            }
        };
        i32::try_from(at).unwrap_or(i32::MAX)
    }

    fn push_null(&mut self) {
        self.rows.end(self.keys.len(), false);
    }

    fn finish(self) -> Result<ArrayRef, BatchError> {
        let texts = arrow_array::StringArray::from_iter_values(&self.texts);
        let count = self.keys.len();
        let keys = PrimitiveArray::<arrow_array::types::Int32Type>::from(self.keys);
        let reasons = arrow_array::DictionaryArray::try_new(keys, Arc::new(texts))?;
        self.rows.finish(Arc::new(reasons), count)
    }
}

/// An amount as `decimal128(38, 4)`'s integer; one with more than four decimals is refused.
fn scaled_amount(amount: Decimal) -> Result<i128, String> {
    // Most amounts have their currency's 0 to 4 decimals: scaled up without normalising.
    if let Some(up) = AMOUNT_SCALE.checked_sub(amount.scale()) {
        // INVARIANT: a 96-bit mantissa times 10^4 fits 128 bits.
        return Ok(amount.mantissa() * 10i128.pow(up));
    }
    let mut scaled = amount.normalize();
    if scaled.scale() > AMOUNT_SCALE {
        return Err(format!(
            "amount {amount} has more than {AMOUNT_SCALE} decimals, more than the amount column \
             (decimal128(38, {AMOUNT_SCALE})) holds"
        ));
    }
    scaled.rescale(AMOUNT_SCALE);
    Ok(scaled.mantissa())
}

/// An instant as microseconds since 1970; one with a fraction of a microsecond is refused.
fn micros(time: &ZonedInstant<'_>) -> Result<i64, String> {
    let nanos = time.instant().nanos();
    if nanos.rem_euclid(1000) != 0 {
        return Err(format!(
            "{time} has a fraction of a microsecond, which the timestamp[us] columns cannot hold"
        ));
    }
    // INVARIANT: instants lie within years 0001 to 9999, about 2.5e17 microseconds from 1970.
    i64::try_from(nanos.div_euclid(1000)).map_err(|_| format!("{time} is out of range"))
}
