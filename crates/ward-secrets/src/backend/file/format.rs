//! The store file: one file for every entry.
//!
//! ```text
//! ward-secrets v2\n
//! {"recipient":"age1…","entries":[…metadata…]}\n
//! hmac-sha256:<64 hex digits>\n
//! <age ciphertext, binary, of {"entries":[…metadata + secrets…]}>
//! ```
//!
//! The second line is the metadata index: `list` reads it and never
//! decrypts. It holds no secret. The third line authenticates the first
//! two and the ciphertext ([`super::seal`]): age alone lets anyone who
//! knows the public recipient write a file that decrypts. The decrypted
//! payload is authoritative; every write regenerates the index from it.
//! `tail -n +4 FILE | age -d -i identity.txt` decrypts the payload with the
//! stock `age` tool.
//!
//! Version 1 files (written before the tag existed) are the same without
//! the third line; they are read once, to migrate them ([`super::upgraded`]).

use crate::entry::{Entry, EntryMeta};
use serde::{Deserialize, Serialize};

pub const MAGIC: &str = "ward-secrets v2";
pub const MAGIC_V1: &str = "ward-secrets v1";
const TAG_PREFIX: &str = "hmac-sha256:";

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

/// A store file, split into its parts.
#[derive(Debug)]
pub struct Parts<'a> {
    pub header: Header,
    /// The magic line and the index line, newlines included: what the tag
    /// covers before the ciphertext.
    pub signed: &'a [u8],
    /// `None` in a version 1 file.
    pub tag: Option<[u8; 32]>,
    pub ciphertext: &'a [u8],
}

/// Splits a store file into its parts. The error says what is wrong
/// without quoting the file.
pub fn split(bytes: &[u8]) -> Result<Parts<'_>, String> {
    let (magic, rest) = split_line(bytes).ok_or("it does not start with a ward-secrets header")?;
    let v1 = match magic {
        m if m == MAGIC.as_bytes() => false,
        m if m == MAGIC_V1.as_bytes() => true,
        _ => return Err(format!("it does not start with `{MAGIC}`")),
    };
    let (index, rest) = split_line(rest).ok_or("the metadata index is cut short")?;
    let signed = &bytes[..bytes.len() - rest.len()];
    let header: Header =
        serde_json::from_slice(index).map_err(|e| format!("the metadata index is unreadable ({e})"))?;
    let (tag, ciphertext) = if v1 {
        (None, rest)
    } else {
        let (line, ciphertext) = split_line(rest).ok_or("the authentication tag is cut short")?;
        (Some(parse_tag(line).ok_or("the authentication tag line is unreadable")?), ciphertext)
    };
    if ciphertext.is_empty() {
        return Err("the encrypted part is missing".into());
    }
    Ok(Parts { header, signed, tag, ciphertext })
}

/// The magic and index lines of a version 2 file: what [`join`] writes
/// first and the tag covers.
pub fn signed_lines(header: &Header) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&serde_json::to_vec(header)?);
    out.push(b'\n');
    Ok(out)
}

/// A version 2 file from [`signed_lines`], the tag over them and the
/// ciphertext, and the ciphertext.
pub fn join(signed: &[u8], tag: &[u8; 32], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(signed.len() + 80 + ciphertext.len());
    out.extend_from_slice(signed);
    out.extend_from_slice(TAG_PREFIX.as_bytes());
    out.extend(tag.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
    out.push(b'\n');
    out.extend_from_slice(ciphertext);
    out
}

fn parse_tag(line: &[u8]) -> Option<[u8; 32]> {
    let hex = std::str::from_utf8(line).ok()?.strip_prefix(TAG_PREFIX)?;
    if hex.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (i, byte) in tag.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(tag)
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
        let signed = signed_lines(&header).expect("serialises");
        let tag = [0xa5; 32];
        let bytes = join(&signed, &tag, b"\x00cipher\ntext");
        let parts = split(&bytes).expect("splits");
        assert_eq!(parts.header.recipient, "age1x");
        assert_eq!(parts.signed, signed.as_slice());
        assert_eq!(parts.tag, Some(tag));
        assert_eq!(parts.ciphertext, b"\x00cipher\ntext");
    }

    #[test]
    fn a_version_1_file_splits_without_a_tag() {
        let parts = split(b"ward-secrets v1\n{\"recipient\":\"a\",\"entries\":[]}\ncipher").expect("splits");
        assert_eq!(parts.tag, None);
        assert_eq!(parts.ciphertext, b"cipher");
    }

    #[test]
    fn truncated_or_foreign_files_are_refused() {
        assert!(split(b"").is_err());
        assert!(split(b"hello\n{}\nx").is_err());
        assert!(split(b"ward-secrets v2\n{\"recipient\":").is_err());
        assert!(split(b"ward-secrets v1\n{\"recipient\":\"a\",\"entries\":[]}\n").is_err());
        assert!(split(b"ward-secrets v2\n{\"recipient\":\"a\",\"entries\":[]}\nhmac-sha256:00\nx").is_err());
        assert!(split(b"ward-secrets v2\n{\"recipient\":\"a\",\"entries\":[]}\nx").is_err());
    }
}
