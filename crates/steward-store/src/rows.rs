//! Reading columns back into Rust values, and writing JSON into text columns. Stored text
//! that does not parse is reported as [`StoreError::Corrupt`], never unwrapped.

use serde_json::Value;
use sqlx::{AnyConnection, Row as _};

use crate::{Row, StoreError};

pub(crate) fn text(row: &Row, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &Row, col: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &Row, col: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn opt_int(row: &Row, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn flag(row: &Row, col: &str) -> Result<bool, StoreError> {
    Ok(int(row, col)? != 0)
}

pub(crate) fn json(row: &Row, col: &str) -> Result<Value, StoreError> {
    parse_json(&text(row, col)?, col)
}

pub(crate) fn opt_json(row: &Row, col: &str) -> Result<Option<Value>, StoreError> {
    opt_text(row, col)?.map(|t| parse_json(&t, col)).transpose()
}

pub(crate) fn strings(row: &Row, col: &str) -> Result<Vec<String>, StoreError> {
    let raw = text(row, col)?;
    serde_json::from_str(&raw)
        .map_err(|e| StoreError::Corrupt(format!("column {col} is not a list of strings: {e}")))
}

fn parse_json(raw: &str, col: &str) -> Result<Value, StoreError> {
    serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("column {col} is not JSON: {e}")))
}

/// A list of strings as JSON text.
pub(crate) fn strings_text(list: &[String]) -> String {
    Value::from(list.to_vec()).to_string()
}

/// Integer form of a flag.
pub(crate) fn flag_int(b: bool) -> i64 {
    i64::from(b)
}

/// The `VALUES` list for `rows` rows of `cols` parameters each: `($1, $2), ($3, $4)` on
/// PostgreSQL, `(?, ?), (?, ?)` on SQLite. SQLite treats `$N` as a named parameter and
/// sqlx looks each name up with a linear scan, which makes binding a long multi-row
/// statement quadratic; anonymous `?` parameters bind in order at no cost.
pub(crate) fn values_placeholders(conn: &AnyConnection, rows: usize, cols: usize) -> String {
    placeholders(conn.backend_name().eq_ignore_ascii_case("sqlite"), rows, cols)
}

fn placeholders(anonymous: bool, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            if anonymous {
                out.push('?');
            } else {
                out.push('$');
                out.push_str(&(r * cols + c + 1).to_string());
            }
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_placeholders_number_every_parameter() {
        assert_eq!(super::placeholders(false, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholders(true, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(super::placeholders(false, 1, 1), "($1)");
    }
}
