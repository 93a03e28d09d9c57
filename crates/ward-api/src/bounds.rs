//! Length bounds on request fields, applied while a body is read: a field
//! over its bound fails deserialization (422, naming the field), so nothing
//! of it reaches a lookup, the store or the audit trail. Fields whose
//! refusal must be counted (the login's) are bounded by their handler.
//!
//! Use with `#[serde(deserialize_with = "crate::bounds::name")]` (and
//! `#[serde(default)]` on the `opt_` forms).

use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// Names and ids: agent names, jtis, approval and operation names.
pub const NAME: usize = 128;
/// Free text: reasons.
pub const TEXT: usize = 1024;

fn check<E: Error>(value: String, max: usize) -> Result<String, E> {
    if value.len() > max {
        return Err(E::custom(format_args!("longer than {max} bytes; shorten it")));
    }
    Ok(value)
}

/// A name of at most [`NAME`] bytes.
pub fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    check(String::deserialize(d)?, NAME)
}

/// An optional name of at most [`NAME`] bytes.
pub fn opt_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.map(|v| check(v, NAME)).transpose()
}

/// A name of at most [`NAME`] bytes when the field is there; absent is
/// `None`, and `null` is refused (for fields where absent and given must
/// be told apart, such as `jti` or `agent` of `POST /v1/mint/revoke`).
pub fn some_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    name(d).map(Some)
}

/// An optional whole number for a `u32` field, written as `30` or `30.0`:
/// JSON has one number type, and JSON Schema's `integer` takes both.
pub fn opt_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(number) = Option::<f64>::deserialize(d)? else { return Ok(None) };
    if number.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&number) {
        return Err(D::Error::custom(format_args!("expected a whole number from 0 to {}", u32::MAX)));
    }
    // Whole and in range, checked above: the cast is exact.
    Ok(Some(number as u32))
}

/// Optional free text of at most [`TEXT`] bytes.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.map(|v| check(v, TEXT)).transpose()
}
