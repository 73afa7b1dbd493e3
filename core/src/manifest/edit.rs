//! [`VersionEdit`]: one manifest record, a set of changes to the [`super::Version`].
//!
//! ```text
//!   edit  = field*
//!   field = | tag varint | length varint | payload (length bytes) |
//!
//!   tag  payload
//!    1   log number varint          oldest WAL segment still needed
//!    2   next file number varint
//!    3   last sequence varint
//!    4   add table: level varint | number varint | size varint | seq min varint |
//!                   seq max varint | smallest key (varint length, bytes) | largest key (likewise)
//!    5   remove table: level varint | number varint
//!    6   add flush_all marker: seq varint
//!    7   remove flush_all marker: seq varint
//! ```
//!
//! Every field states its length, so a reader can step over fields it does not know: tags
//! with bit 6 set (64..=127 and their multi-byte forms) are *ignorable* and skipped; any other
//! unknown tag is refused ([`Error::UnsupportedFormat`]). A payload may be longer than the
//! fields a reader knows (later versions append to it); the rest is ignored.

use alloc::vec::Vec;

use crate::format::{varint, Cursor};
use crate::{Error, Result};

/// Field tags.
pub mod tag {
    /// The oldest WAL segment still needed.
    pub const LOG_NUMBER: u64 = 1;
    /// The next file number to hand out.
    pub const NEXT_FILE_NUMBER: u64 = 2;
    /// The last sequence number written to a table or made durable.
    pub const LAST_SEQUENCE: u64 = 3;
    /// A table added to a level.
    pub const ADD_TABLE: u64 = 4;
    /// A table removed from a level.
    pub const REMOVE_TABLE: u64 = 5;
    /// A `flush_all` marker to remember.
    pub const ADD_FLUSH_MARKER: u64 = 6;
    /// A `flush_all` marker no longer needed.
    pub const REMOVE_FLUSH_MARKER: u64 = 7;
    /// Tags with this bit set may be skipped by readers that do not know them.
    pub const IGNORABLE_BIT: u64 = 0x40;
}

/// A live table, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    /// The table's file number (its file is `table_file_name(number)`).
    pub number: u64,
    /// The level it sits in.
    pub level: u32,
    /// The file's size in bytes.
    pub size_bytes: u64,
    /// The smallest sequence number in it.
    pub seq_min: u64,
    /// The largest sequence number in it.
    pub seq_max: u64,
    /// The smallest user key in it.
    pub smallest_key: Vec<u8>,
    /// The largest user key in it.
    pub largest_key: Vec<u8>,
}

/// Changes to the version, applied together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// The oldest WAL segment still needed (older ones may be deleted).
    pub log_number: Option<u64>,
    /// The next file number to hand out.
    pub next_file_number: Option<u64>,
    /// The last sequence number.
    pub last_sequence: Option<u64>,
    /// Tables added.
    pub added_tables: Vec<TableMeta>,
    /// Tables removed: `(level, number)`.
    pub removed_tables: Vec<(u32, u64)>,
    /// `flush_all` markers added (their sequence numbers).
    pub added_flush_markers: Vec<u64>,
    /// `flush_all` markers removed.
    pub removed_flush_markers: Vec<u64>,
}

fn put_field(out: &mut Vec<u8>, tag: u64, payload: &[u8]) {
    varint::put_u64(out, tag);
    varint::put_len_prefixed(out, payload);
}

fn put_u64_field(out: &mut Vec<u8>, tag: u64, v: u64) {
    let mut p = Vec::new();
    varint::put_u64(&mut p, v);
    put_field(out, tag, &p);
}

impl VersionEdit {
    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == VersionEdit::default()
    }

    /// Appends the edit's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Some(v) = self.log_number {
            put_u64_field(out, tag::LOG_NUMBER, v);
        }
        if let Some(v) = self.next_file_number {
            put_u64_field(out, tag::NEXT_FILE_NUMBER, v);
        }
        if let Some(v) = self.last_sequence {
            put_u64_field(out, tag::LAST_SEQUENCE, v);
        }
        for t in &self.added_tables {
            let mut p = Vec::new();
            for v in [
                u64::from(t.level),
                t.number,
                t.size_bytes,
                t.seq_min,
                t.seq_max,
            ] {
                varint::put_u64(&mut p, v);
            }
            varint::put_len_prefixed(&mut p, &t.smallest_key);
            varint::put_len_prefixed(&mut p, &t.largest_key);
            put_field(out, tag::ADD_TABLE, &p);
        }
        for &(level, number) in &self.removed_tables {
            let mut p = Vec::new();
            varint::put_u64(&mut p, u64::from(level));
            varint::put_u64(&mut p, number);
            put_field(out, tag::REMOVE_TABLE, &p);
        }
        for &seq in &self.added_flush_markers {
            put_u64_field(out, tag::ADD_FLUSH_MARKER, seq);
        }
        for &seq in &self.removed_flush_markers {
            put_u64_field(out, tag::REMOVE_FLUSH_MARKER, seq);
        }
    }

    /// Decodes an edit (the payload of the manifest record at `offset`, used in errors).
    pub fn decode(bytes: &[u8], offset: u64) -> Result<VersionEdit> {
        let corrupt = || Error::corruption("malformed manifest edit", offset);
        let mut edit = VersionEdit::default();
        let mut c = Cursor::new(bytes);
        while !c.is_empty() {
            let tag = c.varint_u64().ok_or_else(corrupt)?;
            let payload = c.len_prefixed().ok_or_else(corrupt)?;
            let known = edit.decode_field(tag, &mut Cursor::new(payload));
            match known {
                Some(true) => {}
                Some(false) if tag & tag::IGNORABLE_BIT != 0 => {}
                Some(false) => {
                    return Err(Error::UnsupportedFormat {
                        what: "manifest edit tag",
                        version: u32::try_from(tag).unwrap_or(u32::MAX),
                    })
                }
                None => return Err(corrupt()),
            }
        }
        Ok(edit)
    }

    /// Decodes one field into the edit: `Some(false)` for an unknown tag, `None` if malformed.
    fn decode_field(&mut self, tag: u64, p: &mut Cursor<'_>) -> Option<bool> {
        match tag {
            tag::LOG_NUMBER => self.log_number = Some(p.varint_u64()?),
            tag::NEXT_FILE_NUMBER => self.next_file_number = Some(p.varint_u64()?),
            tag::LAST_SEQUENCE => self.last_sequence = Some(p.varint_u64()?),
            tag::ADD_TABLE => self.added_tables.push(TableMeta {
                level: p.varint_u32()?,
                number: p.varint_u64()?,
                size_bytes: p.varint_u64()?,
                seq_min: p.varint_u64()?,
                seq_max: p.varint_u64()?,
                smallest_key: p.len_prefixed()?.to_vec(),
                largest_key: p.len_prefixed()?.to_vec(),
            }),
            tag::REMOVE_TABLE => self.removed_tables.push((p.varint_u32()?, p.varint_u64()?)),
            tag::ADD_FLUSH_MARKER => self.added_flush_markers.push(p.varint_u64()?),
            tag::REMOVE_FLUSH_MARKER => self.removed_flush_markers.push(p.varint_u64()?),
            _ => return Some(false),
        }
        Some(true)
    }
}
