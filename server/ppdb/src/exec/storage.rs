//! `set`, `add`, `replace`, `append`, `prepend`, `cas`, and storage requests over the item
//! size limit.

use ppdb_memcache::storage::{Storage, StorageCommand};
use ppdb_memcache::{expiry_to_deadline, ErrorReply, Response, ServerError, TooLarge};

use super::detail::Op;
use super::{write_store_error, Cx};
use crate::store::{StoreError, StoreMode, StoreOutcome};

/// A classic storage command: `STORED`, `NOT_STORED`, `EXISTS` or `NOT_FOUND`; nothing with
/// `noreply`.
pub(crate) fn storage(cx: &Cx<'_>, s: &Storage<'_>, out: &mut Vec<u8>) {
    let mode = match (s.command, s.cas_unique) {
        (StorageCommand::Set, _) => StoreMode::Set,
        (StorageCommand::Add, _) => StoreMode::Add,
        (StorageCommand::Replace, _) => StoreMode::Replace,
        (StorageCommand::Append, _) => StoreMode::Append,
        (StorageCommand::Prepend, _) => StoreMode::Prepend,
        (StorageCommand::Cas, unique) => StoreMode::Cas(unique.unwrap_or(0)),
    };
    cx.state().detail.record(s.key, Op::Set);
    let expiry = expiry_to_deadline(s.exptime, cx.now);
    let result = cx
        .store()
        .store(mode, s.key, s.data, s.client_flags, expiry, cx.now);
    let mut reply = Vec::new();
    match result {
        Ok(outcome) => {
            cx.count(|c| &c.cmd_set);
            let response = match outcome {
                StoreOutcome::Stored(_) => Response::Stored,
                StoreOutcome::NotStored => Response::NotStored,
                StoreOutcome::Exists => Response::Exists,
                StoreOutcome::NotFound => Response::NotFound,
            };
            if let StoreMode::Cas(_) = mode {
                cx.count(match outcome {
                    StoreOutcome::Stored(_) => |c| &c.cas_hits,
                    StoreOutcome::Exists => |c| &c.cas_badval,
                    _ => |c| &c.cas_misses,
                });
            }
            response.write_to(&mut reply);
        }
        // The combined value of an append or prepend is over the limit.
        Err(StoreError::TooLarge) if matches!(mode, StoreMode::Append | StoreMode::Prepend) => {
            cx.count(|c| &c.cmd_set);
            Response::NotStored.write_to(&mut reply);
        }
        // The engine's value limit is below the item size limit for this key.
        Err(StoreError::TooLarge) => {
            cx.count(|c| &c.store_too_large);
            ErrorReply::Server(ServerError::ObjectTooLarge).write_to(&mut reply);
        }
        Err(StoreError::OutOfMemory) => {
            cx.count(|c| &c.store_no_memory);
            Response::ServerError(b"out of memory storing object").write_to(&mut reply);
            if mode == StoreMode::Set {
                // memcached unlinks the old item so that a failed set never leaves it readable.
                let _ = cx.store().delete(s.key, cx.now);
            }
        }
        Err(e) => write_store_error(&e, &mut reply),
    }
    if !s.noreply {
        out.extend_from_slice(&reply);
    }
}

/// A storage request over the item size limit: `SERVER_ERROR object too large for cache`
/// (its data is swallowed by the parser). `set` and every `ms` also remove the key's item.
pub(crate) fn too_large(cx: &Cx<'_>, t: &TooLarge<'_>, out: &mut Vec<u8>) {
    cx.count(|c| &c.store_too_large);
    if t.removes_existing() {
        // Best effort: the reply is the same whether or not the removal could be written.
        let _ = cx.store().delete(t.key.as_bytes(), cx.now);
    }
    t.write_to(out);
}
