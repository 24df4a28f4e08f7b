//! Reading an order's JSON text: one pass that keeps, for each declared field, the raw text of its
//! value, borrowed from the input. Unknown fields are skipped; the last of duplicate keys wins.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The raw values of an order's fields, by slot.
pub(crate) struct RawFields<'a> {
    pub slots: Vec<Option<&'a str>>,
    /// Slots whose field the order gives more than once (the last is in `slots`).
    pub repeated: u64,
}

pub(crate) enum RawError {
    NotAnObject(&'static str),
    Json(String),
}

/// `slot_of(name)`: the slot of a declared field, `usize::MAX` for an undeclared `id`, `None` to skip.
pub(crate) fn raw_fields<'a>(
    text: &'a str,
    slots: usize,
    slot_of: impl Fn(&str) -> Option<usize>,
) -> Result<RawFields<'a>, RawError> {
    let trimmed = text.trim_start();
    match trimmed.as_bytes().first() {
        Some(b'{') => {}
        Some(b'[') => return Err(RawError::NotAnObject("an array")),
        None => return Err(RawError::NotAnObject("nothing")),
        _ => {
            if serde_json::from_str::<IgnoredAny>(text).is_ok() {
                return Err(RawError::NotAnObject(
                    crate::value::FieldInput::from_raw(text).kind(),
                ));
            }
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = deserializer
        .deserialize_map(FieldsVisitor { slots, slot_of })
        .map_err(|e| RawError::Json(e.to_string()))?;
    deserializer
        .end()
        .map_err(|e| RawError::Json(e.to_string()))?;
    Ok(fields)
}

struct FieldsVisitor<F> {
    slots: usize,
    slot_of: F,
}

/// A key, borrowed unless it holds escapes; `None` for a key that is no Unicode text (it escapes a lone
/// surrogate, `"\ud800"`), which can name no field and is skipped like any unknown key.
struct Key<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                Ok(Key(std::str::from_utf8(v).ok().map(Cow::Borrowed)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
                Ok(Key(std::str::from_utf8(v)
                    .ok()
                    .map(|v| Cow::Owned(v.to_string()))))
            }
        }
        // As bytes: serde_json then accepts a lone surrogate, which a `str` would refuse with a
        // misleading "unexpected end of hex escape".
        deserializer.deserialize_bytes(KeyVisitor)
    }
}

impl<'de, F: Fn(&str) -> Option<usize>> Visitor<'de> for FieldsVisitor<F> {
    type Value = RawFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an order as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFields<'de>, A::Error> {
        let mut fields = RawFields {
            slots: vec![None; self.slots],
            repeated: 0,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_deref().and_then(&self.slot_of) {
                Some(slot) if slot < fields.slots.len() => {
                    let value = Some(map.next_value::<&'de RawValue>()?.get());
                    if std::mem::replace(&mut fields.slots[slot], value).is_some() && slot < 64 {
                        fields.repeated |= 1 << slot;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}
