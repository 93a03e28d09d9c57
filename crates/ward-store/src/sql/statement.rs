//! A statement as the SQL layer writes it: text with `$1`, `$2`, …
//! placeholders (PostgreSQL's own; sqlx's SQLite driver binds `$N` to the
//! N-th argument too) and its arguments as plain values, which each
//! backend binds in its own types (`Conn::execute` and friends).

/// One bound value. Lists go to PostgreSQL as arrays and to SQLite as a
/// JSON array; the SQL around them is the dialect's (`Conn::in_list`).
#[derive(Debug, Clone)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Texts(Vec<String>),
    Ints(Vec<i64>),
}

/// SQL text and its arguments, in placeholder order.
#[derive(Debug, Clone)]
pub struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<Arg>,
    /// Kept in the driver's statement cache: false for statements whose
    /// text changes with the size of a batch.
    pub(crate) persistent: bool,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), args: Vec::new(), persistent: true }
    }

    /// Binds the next `$N` written in the text.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `(…), (…)`: one parenthesised row of placeholders per item.
    ///
    /// One row gives the same text every time, so the statement stays in
    /// the driver's cache (prepared once per connection: PostgreSQL then
    /// neither parses nor plans it again). Several rows give a text that
    /// changes with the batch size, so that statement is not kept.
    pub fn push_values<T>(&mut self, items: &[T], mut row: impl FnMut(&T) -> Vec<Arg>) -> &mut Self {
        if items.len() > 1 {
            self.persistent = false;
        }
        for (i, item) in items.iter().enumerate() {
            self.push(if i == 0 { "VALUES (" } else { ", (" });
            for (j, value) in row(item).into_iter().enumerate() {
                if j > 0 {
                    self.push(", ");
                }
                self.push_bind(value);
            }
            self.push(")");
        }
        self
    }

    /// Keeps the statement out of the driver's statement cache.
    pub fn once(mut self) -> Self {
        self.persistent = false;
        self
    }
}

/// `From<$type> for Arg`, one line each.
macro_rules! args {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

args! {
    i64 => |v| Arg::Int(Some(v));
    Option<i64> => |v| Arg::Int(v);
    &str => |v| Arg::Text(Some(v.to_owned()));
    String => |v| Arg::Text(Some(v));
    &String => |v| Arg::Text(Some(v.clone()));
    Option<&str> => |v| Arg::Text(v.map(str::to_owned));
    Option<String> => |v| Arg::Text(v);
    &[u8] => |v| Arg::Bytes(Some(v.to_vec()));
    Vec<String> => |v| Arg::Texts(v);
    &[&str] => |v| Arg::Texts(v.iter().map(|s| (*s).to_owned()).collect());
    Vec<i64> => |v| Arg::Ints(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: &i64) -> Vec<Arg> {
        vec![Arg::Int(Some(*n)), Arg::Int(Some(n + 1))]
    }

    #[test]
    fn one_row_is_kept_in_the_statement_cache_and_a_batch_is_not() {
        let mut one = Sql::new("INSERT INTO t (a, b) ");
        one.push_values(&[1], row);
        assert_eq!(one.text, "INSERT INTO t (a, b) VALUES ($1, $2)");
        assert!(one.persistent, "a one-row insert has the same text every time: prepare it once");

        let mut batch = Sql::new("INSERT INTO t (a, b) ");
        batch.push_values(&[1, 2], row);
        assert_eq!(batch.text, "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert!(!batch.persistent, "a batch's text changes with its size: keep it out of the cache");
    }
}
