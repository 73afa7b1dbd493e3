//! A tiny in-memory engine that executes parsed requests the way memcached 1.6 does, with a
//! clock that never moves. It exists to check the transcripts' replies end to end, and to show
//! a server implementer how the reply API fits together.

use std::collections::HashMap;

use ppdb_memcache::arithmetic::{apply_delta, parse_counter, write_counter, ArithmeticMode};
use ppdb_memcache::meta::{
    write_meta_noop, MetaArithmetic, MetaArithmeticOutcome, MetaDebug, MetaDebugInfo, MetaDelete,
    MetaDeleteStatus, MetaGet, MetaItem, MetaSet, MetaSetStatus, Recache, SetMode,
};
use ppdb_memcache::misc::{FlushAll, LruCrawler, SHUTDOWN_DISABLED};
use ppdb_memcache::stats::{Stats, StatsDetail};
use ppdb_memcache::storage::{Storage, StorageCommand};
use ppdb_memcache::{
    expiry_to_deadline, flush_all_deadline, item_size_bytes, ClientError, ErrorReply, Expiry,
    Limits, Request, Response,
};

/// The model's fixed clock.
pub(crate) const NOW: u64 = 1_800_000_000;
/// The version the model reports (the one the transcripts were checked against).
pub(crate) const VERSION: &[u8] = b"1.6.18";

#[derive(Debug, Clone)]
struct Item {
    value: Vec<u8>,
    flags: u32,
    cas: u64,
    expiry: Expiry,
    key_binary: bool,
    stale: bool,
    win_sent: bool,
    fetched: bool,
}

/// The result of applying a delta.
enum Delta {
    Missing,
    Mismatch,
    Done { value: u64, cas: u64 },
}

/// What the connection does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Go on reading.
    Continue,
    /// Close the connection.
    Close,
}

/// The model engine.
#[derive(Debug, Default)]
pub(crate) struct Model {
    items: HashMap<Vec<u8>, Item>,
    cas_last: u64,
    limits: Limits,
}

impl Model {
    /// An empty model enforcing `limits`.
    pub(crate) fn new(limits: Limits) -> Self {
        Model {
            limits,
            ..Model::default()
        }
    }

    fn next_cas(&mut self) -> u64 {
        self.cas_last += 1;
        self.cas_last
    }

    fn live(&mut self, key: &[u8]) -> Option<&mut Item> {
        if self
            .items
            .get(key)
            .is_some_and(|i| i.expiry.is_expired(NOW))
        {
            self.items.remove(key);
        }
        self.items.get_mut(key)
    }

    fn link(&mut self, key: &[u8], mut item: Item, cas: Option<u64>) -> u64 {
        item.cas = cas.unwrap_or_else(|| self.next_cas());
        let cas = item.cas;
        self.items.insert(key.to_vec(), item);
        cas
    }

    fn fits(&self, key: &[u8], flags: u32, len: usize) -> bool {
        item_size_bytes(key.len(), flags, len) <= self.limits.item_size_max
    }

    /// Executes one request, appending its reply to `out`.
    pub(crate) fn execute(&mut self, request: &Request<'_>, out: &mut Vec<u8>) -> After {
        match request {
            Request::Storage(s) => {
                let response = self.storage(s);
                if !s.noreply {
                    response.write_to(out);
                }
            }
            Request::Retrieval(r) => {
                for key in r.keys() {
                    let Some(item) = self.live(key) else { continue };
                    if let Some(exptime) = r.exptime {
                        item.expiry = expiry_to_deadline(exptime, NOW);
                    }
                    item.fetched = true;
                    let cas = r.command.returns_cas().then_some(item.cas);
                    Response::Value {
                        key,
                        flags: item.flags,
                        data: &item.value,
                        cas,
                    }
                    .write_to(out);
                }
                Response::End.write_to(out);
            }
            Request::Delete(d) => {
                let response = match self.live(d.key) {
                    Some(_) => {
                        self.items.remove(d.key);
                        Response::Deleted
                    }
                    None => Response::NotFound,
                };
                if !d.noreply {
                    response.write_to(out);
                }
            }
            Request::Arithmetic(a) => {
                let reply = self.arithmetic(a.key, a.mode, a.delta, None);
                if !a.noreply {
                    match reply {
                        Ok(Delta::Done { value, .. }) => Response::Number(value).write_to(out),
                        Ok(_) => Response::NotFound.write_to(out),
                        Err(e) => ErrorReply::Client(e).write_to(out),
                    }
                }
            }
            Request::Touch(t) => {
                let response = match self.live(t.key) {
                    Some(item) => {
                        item.expiry = expiry_to_deadline(t.exptime, NOW);
                        Response::Touched
                    }
                    None => Response::NotFound,
                };
                if !t.noreply {
                    response.write_to(out);
                }
            }
            Request::FlushAll(f) => self.flush_all(f, out),
            Request::Version => Response::Version(VERSION).write_to(out),
            Request::Verbosity(v) => {
                if !v.noreply {
                    Response::Ok.write_to(out);
                }
            }
            Request::Quit => return After::Close,
            Request::Shutdown(_) => Response::Line(SHUTDOWN_DISABLED.as_bytes()).write_to(out),
            Request::Stats(s) => stats(s, out),
            Request::LruCrawler(c) => match c {
                LruCrawler::Metadump(_) | LruCrawler::Mgdump(_) => Response::End.write_to(out),
                _ => Response::Ok.write_to(out),
            },
            Request::MetaGet(g) => self.meta_get(g, out),
            Request::MetaSet(s) => self.meta_set(s, out),
            Request::MetaDelete(d) => self.meta_delete(d, out),
            Request::MetaArithmetic(a) => self.meta_arithmetic(a, out),
            Request::MetaNoop => write_meta_noop(out),
            Request::MetaDebug(d) => self.meta_debug(d, out),
            Request::TooLarge(t) => {
                if t.removes_existing() {
                    self.items.remove(t.key.as_bytes());
                }
                t.write_to(out);
            }
            Request::Rejected(r) => r.write_to(out),
        }
        After::Continue
    }

    fn storage(&mut self, s: &Storage<'_>) -> Response<'static> {
        let expiry = expiry_to_deadline(s.exptime, NOW);
        let new = Item {
            value: s.data.to_vec(),
            flags: s.client_flags,
            cas: 0,
            expiry,
            key_binary: false,
            stale: false,
            win_sent: false,
            fetched: false,
        };
        let current = self.live(s.key).map(|i| (i.cas, i.value.clone(), i.flags));
        match (s.command, current) {
            (StorageCommand::Add, Some(_)) => Response::NotStored,
            (StorageCommand::Replace | StorageCommand::Append | StorageCommand::Prepend, None) => {
                Response::NotStored
            }
            (StorageCommand::Cas, None) => Response::NotFound,
            (StorageCommand::Cas, Some((cas, _, _))) if Some(cas) != s.cas_unique => {
                Response::Exists
            }
            (StorageCommand::Append | StorageCommand::Prepend, Some((_, old, flags))) => {
                let value = if s.command == StorageCommand::Append {
                    [old.as_slice(), s.data].concat()
                } else {
                    [s.data, old.as_slice()].concat()
                };
                if !self.fits(s.key, flags, value.len()) {
                    return Response::NotStored;
                }
                let item = self.live(s.key).map(|i| Item { value, ..i.clone() });
                if let Some(item) = item {
                    self.link(s.key, item, None);
                }
                Response::Stored
            }
            _ => {
                self.link(s.key, new, None);
                Response::Stored
            }
        }
    }

    /// Applies a delta, or reports a miss, a CAS mismatch or a non-numeric value.
    fn arithmetic(
        &mut self,
        key: &[u8],
        mode: ArithmeticMode,
        delta: u64,
        compare_cas: Option<u64>,
    ) -> Result<Delta, ClientError> {
        let cas = self.next_cas_peek();
        let Some(item) = self.live(key) else {
            return Ok(Delta::Missing);
        };
        if compare_cas.is_some_and(|c| c != item.cas) {
            return Ok(Delta::Mismatch);
        }
        let current = parse_counter(&item.value).ok_or(ClientError::NonNumericValue)?;
        let value = apply_delta(current, mode, delta);
        let mut text = Vec::new();
        write_counter(value, item.value.len(), &mut text);
        item.value = text;
        item.cas = cas;
        self.cas_last = cas;
        Ok(Delta::Done { value, cas })
    }

    fn next_cas_peek(&self) -> u64 {
        self.cas_last + 1
    }

    fn flush_all(&mut self, f: &FlushAll, out: &mut Vec<u8>) {
        if flush_all_deadline(f.delay, NOW) <= NOW {
            self.items.clear();
            self.next_cas();
        }
        if !f.noreply {
            Response::Ok.write_to(out);
        }
    }

    fn meta_get(&mut self, g: &MetaGet<'_>, out: &mut Vec<u8>) {
        let key = g.key.as_bytes();
        let mut created = false;
        if self.live(key).is_none() {
            let Some(ttl) = g.flags.vivify_ttl else {
                return g.write_miss(out);
            };
            let item = Item {
                value: Vec::new(),
                flags: 0,
                cas: 0,
                expiry: expiry_to_deadline(ttl, NOW),
                key_binary: g.key.is_binary(),
                stale: false,
                win_sent: false,
                fetched: false,
            };
            self.link(key, item, g.flags.new_cas);
            created = true;
        }
        let Some(item) = self.live(key) else {
            return g.write_miss(out);
        };
        let mut won = false;
        for token in g.flags.tokens() {
            match token[0] {
                b'T' => item.expiry = expiry_to_deadline(g.flags.ttl.unwrap_or(0), NOW),
                b'N' if created => won = true,
                b'R' => {
                    let threshold = expiry_to_deadline(g.flags.recache_ttl.unwrap_or(0), NOW);
                    if let (false, false, Expiry::At(at), Expiry::At(limit)) =
                        (item.win_sent, created, item.expiry, threshold)
                    {
                        won |= at < limit;
                    }
                }
                _ => {}
            }
        }
        let win_sent = item.win_sent;
        if item.stale && !win_sent {
            won = true;
        }
        if won {
            item.win_sent = true;
        }
        let meta = MetaItem {
            key,
            key_binary: item.key_binary,
            client_flags: item.flags,
            value_len: item.value.len(),
            cas: item.cas,
            ttl: item.expiry.ttl_secs(NOW),
            last_access_secs: 0,
            fetched: item.fetched,
        };
        let recache = Recache {
            won,
            stale: item.stale,
            win_sent,
        };
        if !g.flags.no_bump {
            item.fetched = true;
        }
        let value = item.value.clone();
        g.write_hit(
            out,
            &meta,
            g.flags.return_value.then_some(&value[..]),
            recache,
        );
    }

    fn meta_set(&mut self, s: &MetaSet<'_>, out: &mut Vec<u8>) {
        let key = s.key.as_bytes();
        let flags = s.flags.client_flags.unwrap_or(0);
        let expiry = expiry_to_deadline(s.flags.ttl.unwrap_or(0), NOW);
        let current = self.live(key).map(|i| i.clone());
        let compare = s.flags.compare_cas;
        let mut item = Item {
            value: s.data.to_vec(),
            flags,
            cas: 0,
            expiry,
            key_binary: s.key.is_binary(),
            stale: false,
            win_sent: false,
            fetched: false,
        };
        let status = match (s.mode, current) {
            (SetMode::Set | SetMode::Replace, None) if compare.is_some() => MetaSetStatus::NotFound,
            (SetMode::Set | SetMode::Replace, Some(old))
                if compare.is_some_and(|c| c != old.cas) =>
            {
                if s.flags.invalidate && compare.is_some_and(|c| c < old.cas) {
                    item.stale = true;
                    MetaSetStatus::Stored
                } else {
                    MetaSetStatus::Exists
                }
            }
            (SetMode::Add, Some(_)) | (SetMode::Replace, None) => MetaSetStatus::NotStored,
            (SetMode::Append | SetMode::Prepend, None) => match s.flags.vivify_ttl {
                Some(ttl) => {
                    item.expiry = expiry_to_deadline(ttl, NOW);
                    MetaSetStatus::Stored
                }
                None => MetaSetStatus::NotStored,
            },
            (SetMode::Append | SetMode::Prepend, Some(old)) => {
                if compare.is_some_and(|c| c != old.cas) {
                    MetaSetStatus::Exists
                } else {
                    item.value = if s.mode == SetMode::Append {
                        [old.value.as_slice(), s.data].concat()
                    } else {
                        [s.data, old.value.as_slice()].concat()
                    };
                    item = Item {
                        value: item.value,
                        cas: 0,
                        ..old
                    };
                    if self.fits(key, item.flags, item.value.len()) {
                        MetaSetStatus::Stored
                    } else {
                        MetaSetStatus::NotStored
                    }
                }
            }
            _ => MetaSetStatus::Stored,
        };
        let cas = match status {
            MetaSetStatus::Stored => self.link(key, item, s.flags.new_cas),
            _ => 0,
        };
        s.write_reply(out, status, cas);
    }

    fn meta_delete(&mut self, d: &MetaDelete<'_>, out: &mut Vec<u8>) {
        let key = d.key.as_bytes();
        let cas = self.next_cas_peek();
        let status = match self.live(key) {
            None => MetaDeleteStatus::NotFound,
            Some(item) if d.flags.compare_cas.is_some_and(|c| c != item.cas) => {
                MetaDeleteStatus::Exists
            }
            Some(item) if d.flags.invalidate || d.flags.remove_value => {
                if d.flags.invalidate {
                    if let Some(ttl) = d.flags.ttl {
                        item.expiry = expiry_to_deadline(ttl, NOW);
                    }
                    item.stale = true;
                    item.win_sent = false;
                    item.cas = d.flags.new_cas.unwrap_or(cas);
                }
                if d.flags.remove_value {
                    item.value.clear();
                }
                if d.flags.invalidate && d.flags.new_cas.is_none() {
                    self.cas_last = cas;
                }
                MetaDeleteStatus::Deleted
            }
            Some(_) => {
                self.items.remove(key);
                MetaDeleteStatus::Deleted
            }
        };
        d.write_reply(out, status);
    }

    fn meta_arithmetic(&mut self, a: &MetaArithmetic<'_>, out: &mut Vec<u8>) {
        let key = a.key.as_bytes();
        let outcome = match self.arithmetic(key, a.mode, a.delta(), a.flags.compare_cas) {
            Err(e) => return ErrorReply::Client(e).write_to(out),
            Ok(Delta::Mismatch) => MetaArithmeticOutcome::Exists,
            Ok(Delta::Done { value, cas }) => {
                let item = self.live(key).expect("just updated");
                if let Some(ttl) = a.flags.ttl {
                    item.expiry = expiry_to_deadline(ttl, NOW);
                }
                MetaArithmeticOutcome::Done {
                    value,
                    cas,
                    ttl: item.expiry.ttl_secs(NOW),
                }
            }
            Ok(Delta::Missing) => match a.flags.vivify_ttl {
                None => MetaArithmeticOutcome::NotFound,
                Some(ttl) => {
                    let value = a.initial();
                    let expiry = expiry_to_deadline(ttl, NOW);
                    let item = Item {
                        value: value.to_string().into_bytes(),
                        flags: 0,
                        cas: 0,
                        expiry,
                        key_binary: a.key.is_binary(),
                        stale: false,
                        win_sent: false,
                        fetched: false,
                    };
                    let cas = self.link(key, item, None);
                    MetaArithmeticOutcome::Done {
                        value,
                        cas,
                        ttl: expiry.ttl_secs(NOW),
                    }
                }
            },
        };
        a.write_reply(out, outcome);
    }

    fn meta_debug(&mut self, d: &MetaDebug<'_>, out: &mut Vec<u8>) {
        let key = d.key.as_bytes();
        let Some(item) = self.live(key) else {
            return d.write_miss(out);
        };
        let info = MetaDebugInfo {
            key,
            key_binary: item.key_binary,
            exp: item.expiry.ttl_secs(NOW),
            last_access_secs: 0,
            cas: item.cas,
            fetched: item.fetched,
            class: 1,
            size: item_size_bytes(key.len(), item.flags, item.value.len()) as u64,
        };
        d.write_hit(out, &info);
    }
}

fn stats(s: &Stats<'_>, out: &mut Vec<u8>) {
    match s {
        Stats::Reset => Response::Reset.write_to(out),
        Stats::Detail(StatsDetail::On | StatsDetail::Off) => Response::Ok.write_to(out),
        Stats::Cachedump(Err(e)) => ErrorReply::Client(*e).write_to(out),
        Stats::Other(_) => Response::Error.write_to(out),
        Stats::General => {
            Response::Stat {
                name: b"pid",
                value: b"1",
            }
            .write_to(out);
            Response::Stat {
                name: b"version",
                value: VERSION,
            }
            .write_to(out);
            Response::End.write_to(out);
        }
        _ => Response::End.write_to(out),
    }
}
