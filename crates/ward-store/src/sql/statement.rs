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
    pub fn push_values<T>(&mut self, items: &[T], mut row: impl FnMut(&T) -> Vec<Arg>) -> &mut Self {
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

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}

impl From<Vec<String>> for Arg {
    fn from(v: Vec<String>) -> Self {
        Arg::Texts(v)
    }
}

impl From<&[&str]> for Arg {
    fn from(v: &[&str]) -> Self {
        Arg::Texts(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl From<Vec<i64>> for Arg {
    fn from(v: Vec<i64>) -> Self {
        Arg::Ints(v)
    }
}
