//! Arrow batches of orders in, a batch of decisions out: each row read straight from its typed
//! columns (`Versions::decide_values_into`, no JSON text), decided on worker threads, and written
//! to typed columns, one row per input row, in order.

use std::sync::Arc;

use arrow_array::builder::{
    Date32Builder, Decimal128Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike, NaiveDate};
use policy::contract::DECISION_FIELDS;
use policy::eval::FieldValue;
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
    let empty = Out::new(0, &zone).finish()?;
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
    let rows = batch.num_rows();
    let threads = threads.clamp(1, rows.div_ceil(ROWS_PER_THREAD).max(1));
    let chunk = rows.div_ceil(threads).max(1);
    let decide_rows = |start: usize, end: usize| -> Result<RecordBatch, BatchError> {
        let mut out = Out::new(end - start, zone);
        let mut order = Order::default();
        for row in start..end {
            let decided = versions.decide_values_into(action, &mut order, now, |v, slot, _| {
                match readers.get(v).and_then(|r| r.get(slot)).copied().flatten() {
                    Some(column) => column.value(row),
                    None => FieldValue::Null,
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

    #[inline]
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
    let seconds = value.div_euclid(units_per_second);
    let nanos = value.rem_euclid(units_per_second) * nanos_per_unit;
    match u32::try_from(nanos)
        .ok()
        .and_then(|nanos| Instant::from_unix(seconds, nanos))
    {
        Some(instant) => FieldValue::Timestamp(instant),
        None => FieldValue::Str("(a timestamp outside years 0001 to 9999)"),
    }
}

/// The builders of one batch of decisions.
struct Out {
    order: StringBuilder,
    policy: StringBuilder,
    version: StringBuilder,
    action: StringBuilder,
    outcome: StringBuilder,
    amount: Decimal128Builder,
    currency: StringBuilder,
    refund_to: StringBuilder,
    requires: ListBuilder<StringBuilder>,
    review: StringBuilder,
    review_by: Date32Builder,
    deadline: TimestampMicrosecondBuilder,
    holds_until: TimestampMicrosecondBuilder,
    next_status: StringBuilder,
    values: StringBuilder,
    rule: StringBuilder,
    because: Reasons,
    error: StringBuilder,
    error_code: StringBuilder,
    error_fields: ListBuilder<StringBuilder>,
    json: Vec<u8>,
}

impl Out {
    fn new(rows: usize, zone: &Arc<str>) -> Out {
        // Sized for the whole chunk at once: growing a builder copies it, and touches fresh pages.
        let text = || StringBuilder::with_capacity(rows, rows * 24);
        let list = || ListBuilder::with_capacity(StringBuilder::new(), rows);
        let time =
            || TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(Arc::clone(zone));
        Out {
            order: text(),
            policy: text(),
            version: text(),
            action: text(),
            outcome: text(),
            amount: Decimal128Builder::with_capacity(rows)
                .with_precision_and_scale(38, AMOUNT_SCALE as i8)
                .unwrap_or_else(|_| Decimal128Builder::with_capacity(rows)),
            currency: text(),
            refund_to: text(),
            requires: list(),
            review: text(),
            review_by: Date32Builder::with_capacity(rows),
            deadline: time(),
            holds_until: time(),
            next_status: text(),
            values: text(),
            rule: text(),
            because: Reasons::new(rows),
            error: text(),
            error_code: text(),
            error_fields: list(),
            json: Vec::new(),
        }
    }

    fn push_decision(&mut self, d: &Decision<'_>) {
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
        self.order.append_option(d.order.as_deref());
        self.policy.append_value(d.policy);
        self.version.append_option(d.version);
        self.action.append_value(d.action);
        self.outcome.append_value(d.outcome.as_str());
        self.amount.append_option(amount);
        self.currency.append_option(d.currency.as_deref());
        self.refund_to.append_option(d.refund_to);
        for step in d.requires {
            self.requires.values().append_value(step);
        }
        self.requires.append(true);
        self.review.append_option(d.review);
        self.review_by.append_option(
            d.review_by
                .map(|date| date.num_days_from_ce() - UNIX_EPOCH_FROM_CE),
        );
        self.deadline.append_option(deadline);
        self.holds_until.append_option(holds_until);
        self.next_status.append_option(d.next_status.as_deref());
        self.json.clear();
        self.json.push(b'{');
        for (i, (name, value)) in d.values.iter().enumerate() {
            if i > 0 {
                self.json.push(b',');
            }
            // A field's name is an identifier: quoted as is when it needs no escape.
            if name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                self.json.push(b'"');
                self.json.extend_from_slice(name.as_bytes());
                self.json.extend_from_slice(b"\":");
            } else {
                // INVARIANT: strings always serialise.
                let _ = serde_json::to_writer(&mut self.json, name);
                self.json.push(b':');
            }
            // INVARIANT: JSON values always serialise.
            let _ = serde_json::to_writer(&mut self.json, value);
        }
        self.json.push(b'}');
        self.values
            .append_value(String::from_utf8_lossy(&self.json));
        self.rule.append_value(d.rule);
        self.because.push(d.because);
        self.error.append_null();
        self.error_code.append_null();
        self.error_fields.append_null();
    }

    fn push_error(&mut self, error: &OrderError) {
        let (code, problems) = crate::error_parts(error);
        self.push_nulls(error.order());
        self.error.append_value(error.to_string());
        self.error_code.append_value(code);
        let mut fields: Vec<&str> = Vec::new();
        for (field, _) in &problems {
            if !fields.contains(&field.as_str()) {
                fields.push(field);
            }
        }
        for field in fields {
            self.error_fields.values().append_value(field);
        }
        self.error_fields.append(true);
    }

    /// A decision that Arrow's types cannot hold exactly.
    fn push_failure(&mut self, order: Option<&str>, message: &str) {
        self.push_nulls(order);
        let name = match order {
            Some(id) => format!("order `{id}`"),
            None => "order (no id)".into(),
        };
        self.error.append_value(format!("{name}: {message}"));
        self.error_code.append_value("arrow");
        self.error_fields.append(true);
    }

    fn push_nulls(&mut self, order: Option<&str>) {
        self.order.append_option(order);
        for text in [
            &mut self.policy,
            &mut self.version,
            &mut self.action,
            &mut self.outcome,
            &mut self.currency,
            &mut self.refund_to,
            &mut self.review,
            &mut self.next_status,
            &mut self.values,
            &mut self.rule,
        ] {
            text.append_null();
        }
        self.amount.append_null();
        self.requires.append_null();
        self.review_by.append_null();
        self.deadline.append_null();
        self.holds_until.append_null();
        self.because.push_null();
    }

    fn finish(mut self) -> Result<RecordBatch, BatchError> {
        let arrays: [ArrayRef; 20] = [
            Arc::new(self.order.finish()),
            Arc::new(self.policy.finish()),
            Arc::new(self.version.finish()),
            Arc::new(self.action.finish()),
            Arc::new(self.outcome.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.currency.finish()),
            Arc::new(self.refund_to.finish()),
            Arc::new(self.requires.finish()),
            Arc::new(self.review.finish()),
            Arc::new(self.review_by.finish()),
            Arc::new(self.deadline.finish()),
            Arc::new(self.holds_until.finish()),
            Arc::new(self.next_status.finish()),
            Arc::new(self.values.finish()),
            Arc::new(self.rule.finish()),
            self.because.finish()?,
            Arc::new(self.error.finish()),
            Arc::new(self.error_code.finish()),
            Arc::new(self.error_fields.finish()),
        ];
        Ok(RecordBatch::try_from_iter_with_nullable(
            COLUMNS
                .iter()
                .zip(arrays)
                .map(|(name, array)| (name, array, true)),
        )?)
    }
}

/// The `because` column: a list of reasons, each an index into the reasons seen, as Arrow's
/// `list<dictionary<int32, string>>`. A rule's reasons are the policy's own texts (a few hundred
/// bytes each, citing their source): each is copied once per chunk, not once per decision, and known
/// by its address in the policy, which outlives the batch.
struct Reasons {
    offsets: Vec<i32>,
    valid: Vec<bool>,
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
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Reasons {
            offsets,
            valid: Vec::with_capacity(rows),
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
        self.offsets
            .push(i32::try_from(self.keys.len()).unwrap_or(i32::MAX));
        self.valid.push(true);
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
        self.offsets
            .push(i32::try_from(self.keys.len()).unwrap_or(i32::MAX));
        self.valid.push(false);
    }

    fn finish(self) -> Result<ArrayRef, BatchError> {
        let texts = arrow_array::StringArray::from_iter_values(&self.texts);
        let keys = PrimitiveArray::<arrow_array::types::Int32Type>::from(self.keys);
        let reasons = arrow_array::DictionaryArray::try_new(keys, Arc::new(texts))?;
        let item = Arc::new(arrow_schema::Field::new(
            "item",
            reasons.data_type().clone(),
            true,
        ));
        let offsets = arrow_buffer::OffsetBuffer::new(self.offsets.into());
        let list = arrow_array::ListArray::try_new(
            item,
            offsets,
            Arc::new(reasons),
            Some(arrow_buffer::NullBuffer::from(self.valid)),
        )?;
        Ok(Arc::new(list))
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
