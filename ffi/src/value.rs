//! Values handed to C: [`Value`] (owned by the caller, freed with [`ppdb_value_free`]) and
//! [`Entry`] (borrowed from an iterator).

use std::ptr;

use ppdb_core::Item;

use crate::guard::{guard_void, Out};
use crate::status::{Status, PPDB_NOT_FOUND, PPDB_OK};

/// A value read by a `get`: its bytes and metadata. The bytes are owned by the caller: release
/// them with `ppdb_value_free` (exactly once; `data` and `len` must not be changed before).
/// `data` is NULL when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Value {
    /// The value bytes (not NUL-terminated), or NULL for an empty value.
    pub data: *mut u8,
    /// The number of bytes at `data`.
    pub len: usize,
    /// The flags stored with the value (memcached's client flags).
    pub flags: u32,
    /// The unix time (seconds) at which the value expires; 0 means never.
    pub expire_at: u64,
    /// The version (sequence number) of the write that stored the value.
    pub version: u64,
}

impl Value {
    /// No value: what an out-parameter holds after a miss or an error.
    pub(crate) const EMPTY: Value = Value {
        data: ptr::null_mut(),
        len: 0,
        flags: 0,
        expire_at: 0,
        version: 0,
    };

    /// Reports a point read through its out-parameter: `PPDB_OK` with the item handed over to
    /// C, or `PPDB_NOT_FOUND` leaving `out` as it is (the callers cleared it first).
    pub(crate) fn found(out: &Out<Value>, item: Option<Item>) -> Status {
        match item {
            Some(item) => {
                out.write(Value::from_item(item));
                PPDB_OK
            }
            None => PPDB_NOT_FOUND,
        }
    }

    /// Hands `item`'s bytes over to C.
    pub(crate) fn from_item(item: Item) -> Value {
        let (data, len) = if item.value.is_empty() {
            (ptr::null_mut(), 0)
        } else {
            let bytes: Box<[u8]> = item.value.into_boxed_slice();
            let len = bytes.len();
            (Box::into_raw(bytes).cast::<u8>(), len)
        };
        Value {
            data,
            len,
            flags: item.flags,
            expire_at: item.expire_at,
            version: item.seq,
        }
    }
}

/// Frees the bytes of a value returned by a `get` and resets it to empty (`data` NULL, `len`
/// 0), so a second call is harmless. NULL, and a value whose `data` is NULL, are ignored.
///
/// # Safety
///
/// If not NULL, `value` must point to a `ppdb_value` filled by this library and not changed
/// since (only its metadata fields may have been).
#[no_mangle]
pub unsafe extern "C" fn ppdb_value_free(value: *mut Value) {
    guard_void(|| {
        // SAFETY: the caller guarantees `value` is NULL or a valid, exclusive `ppdb_value`.
        let Some(value) = (unsafe { value.as_mut() }) else {
            return;
        };
        if !value.data.is_null() {
            let bytes = ptr::slice_from_raw_parts_mut(value.data, value.len);
            // SAFETY: `data` and `len` come from `Box::into_raw` of a `Box<[u8]>` in
            // `Value::from_item` and were not changed (the caller's promise); resetting the
            // fields below makes a double free impossible through this struct.
            drop(unsafe { Box::from_raw(bytes) });
        }
        *value = Value::EMPTY;
    });
}

/// One entry of an iterator, borrowed: `key` and `value` stay valid until the next
/// `ppdb_iter_next` or `ppdb_iter_free` on the same iterator. Copy what you keep.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The key bytes (never empty).
    pub key: *const u8,
    /// The number of bytes at `key`.
    pub key_len: usize,
    /// The value bytes (NULL when `value_len` is 0).
    pub value: *const u8,
    /// The number of bytes at `value`.
    pub value_len: usize,
    /// The flags stored with the value.
    pub flags: u32,
    /// The unix time (seconds) at which the value expires; 0 means never.
    pub expire_at: u64,
    /// The version (sequence number) of the write that stored the value.
    pub version: u64,
}

impl Entry {
    /// No entry: what the out-parameter holds at the end or after an error.
    pub(crate) const EMPTY: Entry = Entry {
        key: ptr::null(),
        key_len: 0,
        value: ptr::null(),
        value_len: 0,
        flags: 0,
        expire_at: 0,
        version: 0,
    };

    /// An entry borrowing `key` and `item`, which must outlive its use by C.
    pub(crate) fn borrowing(key: &[u8], item: &Item) -> Entry {
        let value = if item.value.is_empty() {
            ptr::null()
        } else {
            item.value.as_ptr()
        };
        Entry {
            key: key.as_ptr(),
            key_len: key.len(),
            value,
            value_len: item.value.len(),
            flags: item.flags,
            expire_at: item.expire_at,
            version: item.seq,
        }
    }
}
