//! The store file: one file for every entry.
//!
//! ```text
//! ward-secrets v1\n
//! {"recipient":"age1…","entries":[…metadata…]}\n
//! <age ciphertext, binary, of {"entries":[…metadata + secrets…]}>
//! ```
//!
//! The second line is the metadata index: `list` reads it and never
//! decrypts. It holds no secret. The decrypted payload is authoritative;
//! every write regenerates the index from it. `tail -n +3 FILE | age -d -i
//! identity.txt` decrypts the payload with the stock `age` tool.

use crate::entry::{Entry, EntryMeta};
use serde::{Deserialize, Serialize};

pub const MAGIC: &str = "ward-secrets v1";

/// The plaintext index.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// The age recipient the payload is encrypted to.
    pub recipient: String,
    pub entries: Vec<EntryMeta>,
}

/// The encrypted part.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Payload {
    pub entries: Vec<Entry>,
}

/// Splits a store file into its index and ciphertext. The error says what
/// is wrong without quoting the file.
pub fn split(bytes: &[u8]) -> Result<(Header, &[u8]), String> {
    let (magic, rest) = split_line(bytes).ok_or("it does not start with a ward-secrets header")?;
    if magic != MAGIC.as_bytes() {
        return Err("it does not start with `ward-secrets v1`".into());
    }
    let (index, ciphertext) = split_line(rest).ok_or("the metadata index is cut short")?;
    let header: Header =
        serde_json::from_slice(index).map_err(|e| format!("the metadata index is unreadable ({e})"))?;
    if ciphertext.is_empty() {
        return Err("the encrypted part is missing".into());
    }
    Ok((header, ciphertext))
}

pub fn join(header: &Header, ciphertext: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(ciphertext.len() + 256);
    out.extend_from_slice(MAGIC.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&serde_json::to_vec(header)?);
    out.push(b'\n');
    out.extend_from_slice(ciphertext);
    Ok(out)
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_file_splits_back() {
        let header = Header { recipient: "age1x".into(), entries: vec![] };
        let bytes = join(&header, b"\x00cipher\ntext").expect("joins");
        let (back, cipher) = split(&bytes).expect("splits");
        assert_eq!(back.recipient, "age1x");
        assert_eq!(cipher, b"\x00cipher\ntext");
    }

    #[test]
    fn truncated_or_foreign_files_are_refused() {
        assert!(split(b"").is_err());
        assert!(split(b"hello\n{}\nx").is_err());
        assert!(split(b"ward-secrets v1\n{\"recipient\":").is_err());
        assert!(split(b"ward-secrets v1\n{\"recipient\":\"a\",\"entries\":[]}\n").is_err());
    }
}
