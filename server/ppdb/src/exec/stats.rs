//! `stats` and its groups: `settings`, `items`, `slabs`, `sizes`, `conns`, `reset`, `detail`,
//! `cachedump`.
//!
//! The general statistics follow memcached's names and order, leaving out what PPDB has no
//! equivalent for (libevent, slab reassignment, hash table, LRU maintainer, extstore, ...).
//! PPDB has no slab classes; `stats items` and `stats slabs` describe every item as one class,
//! [`SLAB_CLASS`], so that tools written for memcached keep working.

use std::sync::atomic::{AtomicU64, Ordering};

use ppdb_memcache::response::write_stat_u64;
use ppdb_memcache::stats::{Stats, StatsDetail};
use ppdb_memcache::Response;

use super::rusage::{cpu_time, write_seconds};
use super::state::ResetBase;
use super::{dump, Cx, SLAB_CLASS, VERSION};
use crate::shared::WorkerCounters;

/// A worker counter: its `stats` name and where it lives.
type Counter = (&'static str, fn(&WorkerCounters) -> &AtomicU64);

/// The command counters, in memcached's order.
const COMMAND_COUNTERS: [Counter; 22] = [
    ("cmd_get", |c| &c.cmd_get),
    ("cmd_set", |c| &c.cmd_set),
    ("cmd_flush", |c| &c.cmd_flush),
    ("cmd_touch", |c| &c.cmd_touch),
    ("cmd_meta", |c| &c.cmd_meta),
    ("get_hits", |c| &c.get_hits),
    ("get_misses", |c| &c.get_misses),
    ("get_expired", |c| &c.get_expired),
    ("get_flushed", |c| &c.get_flushed),
    ("delete_misses", |c| &c.delete_misses),
    ("delete_hits", |c| &c.delete_hits),
    ("incr_misses", |c| &c.incr_misses),
    ("incr_hits", |c| &c.incr_hits),
    ("decr_misses", |c| &c.decr_misses),
    ("decr_hits", |c| &c.decr_hits),
    ("cas_misses", |c| &c.cas_misses),
    ("cas_hits", |c| &c.cas_hits),
    ("cas_badval", |c| &c.cas_badval),
    ("touch_hits", |c| &c.touch_hits),
    ("touch_misses", |c| &c.touch_misses),
    ("store_too_large", |c| &c.store_too_large),
    ("store_no_memory", |c| &c.store_no_memory),
];

/// The traffic counters, after the command counters.
const TRAFFIC_COUNTERS: [Counter; 2] = [
    ("bytes_read", |c| &c.bytes_read),
    ("bytes_written", |c| &c.bytes_written),
];

/// Connections that gave way to the others after `-R` requests (after `threads`, as memcached
/// prints it).
const YIELD_COUNTER: Counter = ("conn_yields", |c| &c.conn_yields);

/// Runs a `stats` request.
pub(crate) fn stats(cx: &Cx<'_>, s: &Stats<'_>, out: &mut Vec<u8>) {
    match s {
        Stats::General => general(cx, out),
        Stats::Settings => settings(cx, out),
        Stats::Items => items(cx, out),
        Stats::Slabs => slabs(cx, out),
        Stats::Sizes => {
            Response::Stat {
                name: b"sizes_status",
                value: b"disabled",
            }
            .write_to(out);
        }
        Stats::Conns => conns(cx, out),
        Stats::Reset => return reset(cx, out),
        Stats::Detail(detail) => return stats_detail(cx, *detail, out),
        Stats::Cachedump(Ok(c)) => return dump::cachedump(cx, c, out),
        Stats::Cachedump(Err(e)) => {
            return Response::ClientError(e.as_str().as_bytes()).write_to(out)
        }
        Stats::Other(_) => return Response::Error.write_to(out),
    }
    Response::End.write_to(out);
}

/// Appends `STAT <name> <value>` with a text value.
fn stat_text(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    Response::Stat {
        name: name.as_bytes(),
        value,
    }
    .write_to(out);
}

/// Appends `STAT <name> <value>` with a numeric value.
fn stat(out: &mut Vec<u8>, name: &str, value: u64) {
    write_stat_u64(out, name.as_bytes(), value);
}

/// The item counters, rebased at the last `stats reset`.
struct ItemStats {
    curr_items: u64,
    total_items: u64,
    bytes: u64,
    evictions: u64,
    expired_unfetched: u64,
}

fn item_stats(cx: &Cx<'_>) -> ItemStats {
    let store = cx.store().stats();
    let base = cx.state().reset_base();
    ItemStats {
        curr_items: store.curr_items,
        total_items: (store.total_items + cx.state().items_linked())
            .saturating_sub(base.total_items),
        bytes: store.bytes,
        evictions: store.evictions.saturating_sub(base.evictions),
        expired_unfetched: store
            .expired_unfetched
            .saturating_sub(base.expired_unfetched),
    }
}

/// `stats`: the general statistics.
fn general(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let shared = cx.shared;
    let global = &shared.global;
    stat(out, "pid", u64::from(std::process::id()));
    stat(out, "uptime", cx.now.saturating_sub(shared.started_at_unix));
    stat(out, "time", cx.now);
    stat_text(out, "version", VERSION.as_bytes());
    stat(out, "pointer_size", u64::from(usize::BITS));
    let cpu = cpu_time();
    for (name, us) in [
        ("rusage_user", cpu.user_us),
        ("rusage_system", cpu.system_us),
    ] {
        let mut value = Vec::new();
        write_seconds(us, &mut value);
        stat_text(out, name, &value);
    }
    let curr_connections = global.curr_connections.load(Ordering::Relaxed);
    stat(
        out,
        "max_connections",
        shared.settings.connections_max as u64,
    );
    stat(out, "curr_connections", curr_connections);
    stat(
        out,
        "total_connections",
        global.total_connections.load(Ordering::Relaxed),
    );
    let rejected = global.rejected_connections.load(Ordering::Relaxed);
    stat(out, "rejected_connections", rejected);
    // memcached counts its listening connection too.
    stat(out, "connection_structures", curr_connections + 1);
    for (name, counter) in COMMAND_COUNTERS.iter().chain(TRAFFIC_COUNTERS.iter()) {
        stat(out, name, shared.sum(counter));
    }
    stat(out, "limit_maxbytes", shared.settings.memory_bytes_max);
    let accepting = !shared.stopping.load(Ordering::Relaxed);
    stat(out, "accepting_conns", u64::from(accepting));
    stat(out, "threads", shared.settings.threads as u64);
    stat(out, YIELD_COUNTER.0, shared.sum(YIELD_COUNTER.1));
    let items = item_stats(cx);
    stat(out, "bytes", items.bytes);
    stat(out, "curr_items", items.curr_items);
    stat(out, "total_items", items.total_items);
    stat(out, "expired_unfetched", items.expired_unfetched);
    stat(out, "evictions", items.evictions);
    // Not in memcached: connections closed for a line over the limit, and clients that stopped
    // reading until their pending replies reached the output limit (docs/server.md).
    stat(
        out,
        "lines_too_long",
        global.lines_too_long.load(Ordering::Relaxed),
    );
    stat(
        out,
        "output_stalls",
        global.output_stalls.load(Ordering::Relaxed),
    );
    if cx.store().is_durable() {
        // Disk mode (not in memcached): the write-ahead log's state.
        let store = cx.store().stats();
        stat(out, "disk_mode", 1);
        stat(out, "disk_write_failed", u64::from(store.disk_poisoned));
        stat(out, "disk_full", u64::from(store.disk_stalled));
        stat(out, "wal_syncs", store.wal_syncs);
        stat(out, "wal_records", store.wal_records);
        stat(out, "wal_bytes", store.wal_bytes);
        stat(out, "wal_write_errors", store.wal_write_errors);
        stat(out, "wal_segments_deleted", store.wal_segments_deleted);
        stat(out, "disk_tables", store.disk_tables);
        stat(out, "disk_table_bytes", store.disk_table_bytes);
        stat(out, "disk_flushes", store.disk_flushes);
        stat(out, "disk_flush_errors", store.disk_flush_errors);
        stat(out, "disk_read_errors", store.disk_read_errors);
    }
}

/// `stats settings`: memcached's names, PPDB's values.
fn settings(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let settings = &cx.shared.settings;
    let yes_no = |b: bool| if b { &b"yes"[..] } else { b"no" };
    stat(out, "maxbytes", settings.memory_bytes_max);
    stat(out, "maxconns", settings.connections_max as u64);
    stat(out, "tcpport", u64::from(settings.port));
    stat(out, "udpport", 0);
    stat_text(out, "inter", settings.listen.as_bytes());
    stat(
        out,
        "verbosity",
        u64::from(cx.shared.verbosity.load(Ordering::Relaxed)),
    );
    let evictions = if settings.evictions_disabled {
        &b"off"[..]
    } else {
        b"on"
    };
    stat_text(out, "evictions", evictions);
    stat_text(out, "shutdown_command", yes_no(settings.shutdown_enabled));
    stat(out, "num_threads", settings.threads as u64);
    stat_text(out, "stat_key_prefix", b":");
    stat_text(out, "detail_enabled", yes_no(cx.state().detail.enabled()));
    stat(out, "reqs_per_event", settings.requests_per_event as u64);
    stat_text(out, "cas_enabled", b"yes");
    stat_text(out, "binding_protocol", b"ascii");
    stat(out, "item_size_max", settings.item_size_max as u64);
    stat_text(out, "lru_crawler", yes_no(cx.state().crawler_enabled()));
    let (sleep_us, tocrawl) = cx.state().crawler_pacing();
    stat(out, "lru_crawler_sleep", u64::from(sleep_us));
    stat(out, "lru_crawler_tocrawl", u64::from(tocrawl));
    stat_text(out, "flush_enabled", b"yes");
    stat_text(out, "dump_enabled", b"yes");
    stat(out, "idle_timeout", settings.idle_timeout_secs);
}

/// `stats items`: memcached's per-class fields for the one class (nothing while empty).
/// LRU segments, ages and crawler figures PPDB does not have read 0.
fn items(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let items = item_stats(cx);
    if items.curr_items == 0 {
        return;
    }
    let oom = cx.shared.sum(|c| &c.store_no_memory);
    let hits = cx.shared.sum(|c| &c.get_hits);
    let n = items.curr_items;
    let fields: [(&str, u64); 28] = [
        ("number", n),
        ("number_hot", 0),
        ("number_warm", 0),
        ("number_cold", n),
        ("age_hot", 0),
        ("age_warm", 0),
        ("age", 0),
        ("mem_requested", items.bytes),
        ("evicted", items.evictions),
        ("evicted_nonzero", 0),
        ("evicted_time", 0),
        ("outofmemory", oom),
        ("tailrepairs", 0),
        ("reclaimed", 0),
        ("expired_unfetched", items.expired_unfetched),
        ("evicted_unfetched", 0),
        ("evicted_active", 0),
        ("crawler_reclaimed", 0),
        ("crawler_items_checked", 0),
        ("lrutail_reflocked", 0),
        ("moves_to_cold", 0),
        ("moves_to_warm", 0),
        ("moves_within_lru", 0),
        ("direct_reclaims", 0),
        ("hits_to_hot", 0),
        ("hits_to_warm", 0),
        ("hits_to_cold", hits),
        ("hits_to_temp", 0),
    ];
    for (name, value) in fields {
        stat(out, &format!("items:{SLAB_CLASS}:{name}"), value);
    }
}

/// `stats slabs`: the one class, as if each item had a chunk of `-I` bytes to itself.
fn slabs(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let items = item_stats(cx);
    let n = items.curr_items;
    if n > 0 {
        let sum = |counter: fn(&WorkerCounters) -> &AtomicU64| cx.shared.sum(counter);
        let fields: [(&str, u64); 15] = [
            ("chunk_size", cx.shared.settings.item_size_max as u64),
            ("chunks_per_page", 1),
            ("total_pages", n),
            ("total_chunks", n),
            ("used_chunks", n),
            ("free_chunks", 0),
            ("free_chunks_end", 0),
            ("get_hits", sum(|c| &c.get_hits)),
            ("cmd_set", sum(|c| &c.cmd_set)),
            ("delete_hits", sum(|c| &c.delete_hits)),
            ("incr_hits", sum(|c| &c.incr_hits)),
            ("decr_hits", sum(|c| &c.decr_hits)),
            ("cas_hits", sum(|c| &c.cas_hits)),
            ("cas_badval", sum(|c| &c.cas_badval)),
            ("touch_hits", sum(|c| &c.touch_hits)),
        ];
        for (name, value) in fields {
            stat(out, &format!("{SLAB_CLASS}:{name}"), value);
        }
    }
    stat(out, "active_slabs", u64::from(n > 0));
    stat(out, "total_malloced", if n > 0 { items.bytes } else { 0 });
}

/// `stats conns`: the connection the request came on (the runtime keeps no list of the
/// others).
fn conns(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let id = cx.conn.id;
    let settings = &cx.shared.settings;
    if let Some(peer) = cx.conn.peer {
        stat_text(out, &format!("{id}:addr"), format!("tcp:{peer}").as_bytes());
    }
    let listen = format!("tcp:{}:{}", settings.listen, settings.port);
    stat_text(out, &format!("{id}:listen_addr"), listen.as_bytes());
    stat_text(out, &format!("{id}:state"), b"conn_parse_cmd");
    stat(out, &format!("{id}:secs_since_last_cmd"), 0);
}

/// `stats reset`: zeroes the command, traffic and connection counters and rebases the item
/// counters; `RESET`.
fn reset(cx: &Cx<'_>, out: &mut Vec<u8>) {
    let workers = cx
        .shared
        .workers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for worker in workers.iter() {
        let counters = COMMAND_COUNTERS.iter().chain(TRAFFIC_COUNTERS.iter());
        for (_, counter) in counters.chain([&YIELD_COUNTER]) {
            counter(worker).store(0, Ordering::Relaxed);
        }
    }
    drop(workers);
    let global = &cx.shared.global;
    global.total_connections.store(0, Ordering::Relaxed);
    global.rejected_connections.store(0, Ordering::Relaxed);
    global.lines_too_long.store(0, Ordering::Relaxed);
    global.output_stalls.store(0, Ordering::Relaxed);
    let store = cx.store().stats();
    cx.state().set_reset_base(ResetBase {
        total_items: store.total_items + cx.state().items_linked(),
        evictions: store.evictions,
        expired_unfetched: store.expired_unfetched,
    });
    cx.state().detail.clear();
    Response::Reset.write_to(out);
}

/// `stats detail on|off|dump`.
fn stats_detail(cx: &Cx<'_>, detail: StatsDetail, out: &mut Vec<u8>) {
    match detail {
        StatsDetail::On | StatsDetail::Off => {
            cx.state().detail.set_enabled(detail == StatsDetail::On);
            Response::Ok.write_to(out);
        }
        StatsDetail::Dump => cx.state().detail.dump(out),
    }
}
