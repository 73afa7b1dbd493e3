//! Listing items: `stats cachedump` and `lru_crawler` (`metadump`, `mgdump` and the crawler's
//! switches).
//!
//! PPDB has no LRU crawler: items expire lazily and merges reclaim them, so `lru_crawler
//! crawl` only validates its argument. The dumps walk the store shard by shard; memcached walks
//! its LRUs or hash table, so the order of the lines differs.

use ppdb_memcache::arithmetic::write_counter;
use ppdb_memcache::misc::LruCrawler;
use ppdb_memcache::stats::Cachedump;
use ppdb_memcache::{base64, ClientError, ErrorReply, Response};

use super::{item_size, tags, Cx, SLAB_CLASS, SLAB_CLASSES_MAX};

/// memcached's `stats cachedump` buffer: the listing stops before it would grow past this.
pub(crate) const CACHEDUMP_BYTES_MAX: usize = 2 << 20;
/// The most bytes of item lines `lru_crawler metadump`/`mgdump` write for one request.
pub(crate) const METADUMP_BYTES_MAX: usize = 64 << 20;

/// `stats cachedump <class> <limit>`: `ITEM <key> [<bytes> b; <expiry> s]` lines (expiry as
/// a unix time, 0 for never), then `END`. Class [`SLAB_CLASS`] holds every item.
pub(crate) fn cachedump(cx: &Cx<'_>, c: &Cachedump, out: &mut Vec<u8>) {
    if c.class >= SLAB_CLASSES_MAX {
        return ErrorReply::Client(ClientError::IllegalSlabId).write_to(out);
    }
    if c.class == SLAB_CLASS {
        let limit = if c.limit == 0 {
            usize::MAX
        } else {
            c.limit as usize
        };
        let mut listed = 0;
        let mut bytes = 0;
        let mut line = Vec::new();
        cx.store().for_each_item(cx.now, |key, item| {
            line.clear();
            line.extend_from_slice(b"ITEM ");
            line.extend_from_slice(key);
            line.extend_from_slice(b" [");
            write_counter(item.value.len() as u64, 0, &mut line);
            line.extend_from_slice(b" b; ");
            write_counter(item.expire_at, 0, &mut line);
            line.extend_from_slice(b" s]\r\n");
            if bytes + line.len() > CACHEDUMP_BYTES_MAX {
                return false;
            }
            bytes += line.len();
            out.extend_from_slice(&line);
            listed += 1;
            listed < limit
        });
    }
    Response::End.write_to(out);
}

/// The classes an `lru_crawler` argument names, or `None` for an invalid one: `all`, or a
/// comma-separated list of class ids (1 to 63).
fn names_class(arg: &[u8]) -> Option<bool> {
    if arg == b"all" {
        return Some(true);
    }
    let mut ours = false;
    for id in arg.split(|&b| b == b',') {
        let id: u32 = std::str::from_utf8(id).ok()?.parse().ok()?;
        if !(1..SLAB_CLASSES_MAX).contains(&id) {
            return None;
        }
        ours |= id == SLAB_CLASS;
    }
    Some(ours)
}

/// `lru_crawler ...`.
pub(crate) fn lru_crawler(cx: &Cx<'_>, c: &LruCrawler<'_>, out: &mut Vec<u8>) {
    let state = cx.state();
    let disabled = || ErrorReply::Client(ClientError::LruCrawlerDisabled);
    match *c {
        LruCrawler::Metadump(_) | LruCrawler::Mgdump(_) | LruCrawler::Crawl(_)
            if !state.crawler_enabled() =>
        {
            disabled().write_to(out);
        }
        LruCrawler::Metadump(arg) => dump(cx, arg, Format::Metadump, out),
        LruCrawler::Mgdump(arg) => dump(cx, arg, Format::Mgdump, out),
        LruCrawler::Crawl(b"hash") => out.extend_from_slice(b"ERROR an unknown error happened\r\n"),
        LruCrawler::Crawl(arg) => match names_class(arg) {
            Some(_) => Response::Ok.write_to(out),
            None => out.extend_from_slice(b"BADCLASS invalid class id\r\n"),
        },
        LruCrawler::Sleep(us) => {
            state.set_crawler_sleep(us);
            Response::Ok.write_to(out);
        }
        LruCrawler::Tocrawl(items) => {
            state.set_crawler_tocrawl(items);
            Response::Ok.write_to(out);
        }
        LruCrawler::Enable if state.set_crawler_enabled(true) => {
            out.extend_from_slice(b"ERROR failed to start lru crawler thread\r\n");
        }
        LruCrawler::Enable => Response::Ok.write_to(out),
        LruCrawler::Disable => {
            state.set_crawler_enabled(false);
            Response::Ok.write_to(out);
        }
    }
}

/// The line format of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `key=<url-encoded> exp=<unix|-1> la=<unix> cas=<n> fetch=<yes|no> cls=1 size=<n>\n`,
    /// then `END\r\n`.
    Metadump,
    /// `mg <key>\r\n` (`mg <base64> b\r\n` for a binary key), then `EN\r\n`.
    Mgdump,
}

/// `lru_crawler metadump|mgdump <classes>`.
fn dump(cx: &Cx<'_>, arg: &[u8], format: Format, out: &mut Vec<u8>) {
    let ours = if arg == b"hash" {
        Some(true)
    } else {
        names_class(arg)
    };
    let Some(ours) = ours else {
        return out.extend_from_slice(b"BADCLASS invalid class id\r\n");
    };
    if ours {
        let limit = out.len().saturating_add(METADUMP_BYTES_MAX);
        cx.store().for_each_item(cx.now, |key, item| {
            match format {
                Format::Metadump => metadump_line(cx.now, key, item, out),
                Format::Mgdump => mgdump_line(key, item, out),
            }
            out.len() < limit
        });
    }
    out.extend_from_slice(match format {
        Format::Metadump => b"END\r\n",
        Format::Mgdump => b"EN\r\n",
    });
}

/// One `metadump` line. PPDB does not track access times: `la` is the current time.
fn metadump_line(now: u64, key: &[u8], item: &ppdb_core::Item, out: &mut Vec<u8>) {
    out.extend_from_slice(b"key=");
    url_encode(key, out);
    out.extend_from_slice(b" exp=");
    if item.expire_at == 0 {
        out.extend_from_slice(b"-1");
    } else {
        write_counter(item.expire_at, 0, out);
    }
    out.extend_from_slice(b" la=");
    write_counter(now, 0, out);
    out.extend_from_slice(b" cas=");
    write_counter(item.cas, 0, out);
    let fetched = item.tags & tags::FETCHED != 0;
    out.extend_from_slice(if fetched { b" fetch=yes" } else { b" fetch=no" });
    out.extend_from_slice(format!(" cls={SLAB_CLASS} size=").as_bytes());
    write_counter(item_size(key.len(), item.flags, item.value.len()), 0, out);
    out.push(b'\n');
}

/// One `mgdump` line.
fn mgdump_line(key: &[u8], item: &ppdb_core::Item, out: &mut Vec<u8>) {
    out.extend_from_slice(b"mg ");
    if item.tags & tags::KEY_BINARY != 0 {
        base64::encode_into(key, out);
        out.extend_from_slice(b" b");
    } else {
        out.extend_from_slice(key);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `bytes` URL-encoded as memcached does: letters, digits and `-._~` as they are,
/// every other byte as `%XX` (upper-case hex).
fn url_encode(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_encoded_like_memcached() {
        let mut out = Vec::new();
        url_encode(b"aZ09-._~ %:/\x00\xff", &mut out);
        assert_eq!(out, b"aZ09-._~%20%25%3A%2F%00%FF");
    }

    #[test]
    fn class_lists() {
        assert_eq!(names_class(b"all"), Some(true));
        assert_eq!(names_class(b"1"), Some(true));
        assert_eq!(names_class(b"2,63"), Some(false));
        assert_eq!(names_class(b"2,1"), Some(true));
        assert_eq!(names_class(b"0"), None);
        assert_eq!(names_class(b"64"), None);
        assert_eq!(names_class(b"1,x"), None);
        assert_eq!(names_class(b""), None);
    }
}
