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
