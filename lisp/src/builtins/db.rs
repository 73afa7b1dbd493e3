//! Database built-ins: each maps to one [`Backend`](crate::Backend) call, which the remote
//! mode sends as memcached requests and the embedded mode runs on the engine.

use alloc::borrow::Cow;
use alloc::format;
use alloc::vec::Vec;

use super::data::{builtin, parse_int_bytes};
use super::{Builtin, Ctx, Group, Imp};
use crate::backend::{Entry, Store, StoreMode, StoreOutcome};
use crate::error::{Error, Result};
use crate::value::Value;

use Imp::Native as N;

pub(super) static TABLE: &[Builtin] = &[
    builtin!(
        "get",
        "key",
        Database,
        1,
        1,
        N(get),
        "The value of key, or nil if it is missing."
    ),
    builtin!(
        "gets",
        "key",
        Database,
        1,
        1,
        N(gets),
        "(value flags cas) of key, or nil if it is missing."
    ),
    builtin!(
        "set",
        "key value [ttl [flags]]",
        Database,
        2,
        4,
        N(set),
        "Stores value under key; returns true. ttl: seconds (0 never expires; above 30 days, a \
         unix time)."
    ),
    builtin!(
        "add",
        "key value [ttl [flags]]",
        Database,
        2,
        4,
        N(add),
        "Stores only if key is missing; returns whether it stored."
    ),
    builtin!(
        "replace",
        "key value [ttl [flags]]",
        Database,
        2,
        4,
        N(replace),
        "Stores only if key exists; returns whether it stored."
    ),
    builtin!(
        "append",
        "key value",
        Database,
        2,
        2,
        N(append),
        "Appends to the value of an existing key; returns whether it stored."
    ),
    builtin!(
        "prepend",
        "key value",
        Database,
        2,
        2,
        N(prepend),
        "Prepends to the value of an existing key; returns whether it stored."
    ),
    builtin!(
        "cas",
        "key value cas [ttl [flags]]",
        Database,
        3,
        5,
        N(cas),
        "Stores only if key still has the CAS unique cas (from gets): true if stored, false if \
         it changed, nil if it is missing."
    ),
    builtin!(
        "delete",
        "key",
        Database,
        1,
        1,
        N(delete),
        "Deletes key; returns whether it existed."
    ),
    builtin!(
        "incr",
        "key [delta]",
        Database,
        1,
        2,
        N(incr),
        "Adds delta (default 1) to a decimal value; returns the new value, or nil if key is \
         missing."
    ),
    builtin!(
        "decr",
        "key [delta]",
        Database,
        1,
        2,
        N(decr),
        "Subtracts delta (default 1), stopping at 0; returns the new value, or nil if key is \
         missing."
    ),
    builtin!(
        "touch",
        "key ttl",
        Database,
        2,
        2,
        N(touch),
        "Sets a new ttl; returns whether key exists."
    ),
    builtin!(
        "flush",
        "[delay]",
        Database,
        0,
        1,
        N(flush),
        "Invalidates every item (after delay seconds); returns true."
    ),
    builtin!(
        "stats",
        "[group]",
        Database,
        0,
        1,
        N(stats),
        "The server's statistics as a list of (name value) pairs; group as in memcached (items, \
         slabs, settings...)."
    ),
    builtin!(
        "keys",
        "[prefix [limit]]",
        Database,
        0,
        2,
        N(keys),
        "The keys that start with prefix (all by default), sorted; at most limit (0: no limit)."
    ),
    builtin!(
        "scan",
        "[prefix [limit]]",
        Database,
        0,
        2,
        N(scan),
        "Like keys, but a list of (key value) pairs."
    ),
];

/// A key argument: a string, a symbol's name or an integer's digits.
fn key<'v>(ctx: &Ctx<'_>, args: &'v [Value], i: usize) -> Result<Cow<'v, [u8]>> {
    match &args[i] {
        Value::Str(s) => Ok(Cow::Borrowed(s.as_bytes())),
        Value::Symbol(s) => Ok(Cow::Borrowed(s.name().as_bytes())),
        Value::Int(n) => Ok(Cow::Owned(format!("{n}").into_bytes())),
        other => Err(ctx.bad_arg(i, "a key (a string)", other)),
    }
}

/// A value argument: a string's bytes, or a number written out.
fn value<'v>(ctx: &Ctx<'_>, args: &'v [Value], i: usize) -> Result<Cow<'v, [u8]>> {
    match &args[i] {
        Value::Str(s) => Ok(Cow::Borrowed(s.as_bytes())),
        v @ (Value::Int(_) | Value::Float(_) | Value::Symbol(_)) => {
            Ok(Cow::Owned(v.repr().into_bytes()))
        }
        other => Err(ctx.bad_arg(i, "a string or a number", other)),
    }
}

fn opt_int(ctx: &Ctx<'_>, args: &[Value], i: usize, default: i64) -> Result<i64> {
    if args.len() > i {
        ctx.int(args, i)
    } else {
        Ok(default)
    }
}

fn flags(ctx: &Ctx<'_>, args: &[Value], i: usize) -> Result<u32> {
    let n = opt_int(ctx, args, i, 0)?;
    u32::try_from(n).map_err(|_| ctx.bad_arg(i, "flags from 0 to 4294967295", &args[i]))
}

fn store(
    ctx: &mut Ctx<'_>,
    args: &[Value],
    mode: StoreMode,
    ttl_at: usize,
) -> Result<StoreOutcome> {
    let key = key(ctx, args, 0)?;
    let value = value(ctx, args, 1)?;
    let exptime = opt_int(ctx, args, ttl_at, 0)?;
    let flags = flags(ctx, args, ttl_at + 1)?;
    ctx.backend.store(Store {
        mode,
        key: &key,
        value: &value,
        flags,
        exptime,
    })
}

fn stored(outcome: StoreOutcome) -> Value {
    Value::Bool(outcome == StoreOutcome::Stored)
}

fn get(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let key = key(ctx, args, 0)?;
    match ctx.backend.get(&key)? {
        Some(Entry { value, .. }) => ctx.string(value),
        None => Ok(Value::Nil),
    }
}

fn gets(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let key = key(ctx, args, 0)?;
    match ctx.backend.get(&key)? {
        Some(entry) => {
            let value = ctx.string(entry.value)?;
            let cas = i64::try_from(entry.cas).unwrap_or(i64::MAX);
            ctx.list(alloc::vec![
                value,
                Value::Int(i64::from(entry.flags)),
                Value::Int(cas)
            ])
        }
        None => Ok(Value::Nil),
    }
}

fn set(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    store(ctx, args, StoreMode::Set, 2).map(stored)
}

fn add(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    store(ctx, args, StoreMode::Add, 2).map(stored)
}

fn replace(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    store(ctx, args, StoreMode::Replace, 2).map(stored)
}

fn append(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    store(ctx, args, StoreMode::Append, 2).map(stored)
}

fn prepend(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    store(ctx, args, StoreMode::Prepend, 2).map(stored)
}

fn cas(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let unique = ctx.int(args, 2)?;
    let unique = u64::try_from(unique).map_err(|_| ctx.bad_arg(2, "a CAS unique", &args[2]))?;
    Ok(match store(ctx, args, StoreMode::Cas(unique), 3)? {
        StoreOutcome::Stored => Value::Bool(true),
        StoreOutcome::Exists | StoreOutcome::NotStored => Value::Bool(false),
        StoreOutcome::NotFound => Value::Nil,
    })
}

fn delete(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let key = key(ctx, args, 0)?;
    Ok(Value::Bool(ctx.backend.delete(&key)?))
}

fn counter(ctx: &mut Ctx<'_>, args: &[Value], decrement: bool) -> Result<Value> {
    let key = key(ctx, args, 0)?;
    let delta = opt_int(ctx, args, 1, 1)?;
    let delta =
        u64::try_from(delta).map_err(|_| ctx.bad_arg(1, "a delta of 0 or more", &args[1]))?;
    match ctx.backend.incr(&key, delta, decrement)? {
        None => Ok(Value::Nil),
        Some(n) => match i64::try_from(n) {
            Ok(n) => Ok(Value::Int(n)),
            // memcached counters are unsigned 64-bit: above i64 the digits come back.
            Err(_) => ctx.string(format!("{n}").into_bytes()),
        },
    }
}

fn incr(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    counter(ctx, args, false)
}

fn decr(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    counter(ctx, args, true)
}

fn touch(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let key = key(ctx, args, 0)?;
    let exptime = ctx.int(args, 1)?;
    Ok(Value::Bool(ctx.backend.touch(&key, exptime)?))
}

fn flush(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let delay = opt_int(ctx, args, 0, 0)?;
    let delay = u32::try_from(delay).map_err(|_| ctx.bad_arg(0, "a delay in seconds", &args[0]))?;
    ctx.backend.flush(delay)?;
    Ok(Value::Bool(true))
}

fn stats(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let group = match args.first() {
        None => None,
        Some(Value::Str(s)) => Some(
            core::str::from_utf8(s.as_bytes())
                .map_err(|_| Error::eval("`stats`: the group must be text"))?
                .into(),
        ),
        Some(Value::Symbol(s)) => Some(alloc::string::String::from(s.name())),
        Some(other) => return Err(ctx.bad_arg(0, "a group name", other)),
    };
    let pairs = ctx.backend.stats(group.as_deref())?;
    ctx.check_items(pairs.len())?;
    let mut out = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let name = ctx.string(name.into_bytes())?;
        let value = match parse_int_bytes(value.as_bytes(), 10) {
            Some(n) if !value.starts_with('+') && !value.starts_with(' ') => Value::Int(n),
            _ => ctx.string(value.into_bytes())?,
        };
        out.push(ctx.list(alloc::vec![name, value])?);
    }
    ctx.list(out)
}

fn listing(ctx: &Ctx<'_>, args: &[Value]) -> Result<(Vec<u8>, usize)> {
    let prefix = if args.is_empty() {
        Vec::new()
    } else {
        key(ctx, args, 0)?.into_owned()
    };
    let limit = opt_int(ctx, args, 1, 0)?;
    let limit =
        usize::try_from(limit).map_err(|_| ctx.bad_arg(1, "a limit of 0 or more", &args[1]))?;
    Ok((prefix, if limit == 0 { usize::MAX } else { limit }))
}

fn keys(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let (prefix, limit) = listing(ctx, args)?;
    let keys = ctx.backend.keys(&prefix, limit)?;
    ctx.check_items(keys.len())?;
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(ctx.string(k)?);
    }
    ctx.list(out)
}

fn scan(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let (prefix, limit) = listing(ctx, args)?;
    let items = ctx.backend.scan(&prefix, limit)?;
    ctx.check_items(items.len())?;
    let mut out = Vec::with_capacity(items.len());
    for (k, entry) in items {
        let k = ctx.string(k)?;
        let v = ctx.string(entry.value)?;
        out.push(ctx.list(alloc::vec![k, v])?);
    }
    ctx.list(out)
}
