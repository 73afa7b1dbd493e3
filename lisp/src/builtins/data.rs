//! Built-ins over values: arithmetic, comparison, strings, lists, printing and errors.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::{Builtin, Ctx, Group, Imp, ANY};
use crate::error::{Error, ErrorKind, Result};
use crate::value::{compare, equal, Value};

macro_rules! builtin {
    ($name:expr, $params:expr, $group:ident, $min:expr, $max:expr, $imp:expr, $doc:expr) => {
        Builtin {
            name: $name,
            params: $params,
            doc: $doc,
            group: Group::$group,
            min: $min,
            max: $max,
            imp: $imp,
        }
    };
}
pub(crate) use builtin;

use Imp::Native as N;

pub(super) static TABLE: &[Builtin] = &[
    builtin!(
        "+",
        "number...",
        Arithmetic,
        0,
        ANY,
        N(add),
        "The sum (0 for none). Integers overflow into an error; any float makes the result a \
         float."
    ),
    builtin!(
        "-",
        "number number...",
        Arithmetic,
        1,
        ANY,
        N(sub),
        "Subtracts the rest from the first; with one argument, negates it."
    ),
    builtin!(
        "*",
        "number...",
        Arithmetic,
        0,
        ANY,
        N(mul),
        "The product (1 for none)."
    ),
    builtin!(
        "/",
        "number number...",
        Arithmetic,
        1,
        ANY,
        N(div),
        "Divides the first by the rest; integer division truncates. Dividing by zero is an \
         error."
    ),
    builtin!(
        "mod",
        "a b",
        Arithmetic,
        2,
        2,
        N(modulo),
        "The remainder of a / b, with the sign of b's magnitude (never negative for b > 0)."
    ),
    builtin!("abs", "n", Arithmetic, 1, 1, N(abs), "The absolute value."),
    builtin!(
        "min",
        "number number...",
        Arithmetic,
        1,
        ANY,
        N(min),
        "The smallest argument."
    ),
    builtin!(
        "max",
        "number number...",
        Arithmetic,
        1,
        ANY,
        N(max),
        "The largest argument."
    ),
    builtin!(
        "int",
        "x",
        Arithmetic,
        1,
        1,
        N(to_int),
        "x as an integer: floats truncate, strings are parsed (an error if they are not a \
         number)."
    ),
    builtin!(
        "float",
        "x",
        Arithmetic,
        1,
        1,
        N(to_float),
        "x as a float: strings are parsed."
    ),
    builtin!(
        "=",
        "a b...",
        Comparison,
        1,
        ANY,
        N(eq),
        "Whether all arguments are equal (lists item by item; 1 equals 1.0)."
    ),
    builtin!(
        "!=",
        "a b",
        Comparison,
        2,
        2,
        N(ne),
        "Whether a and b differ."
    ),
    builtin!(
        "<",
        "a b...",
        Comparison,
        1,
        ANY,
        N(lt),
        "Whether the arguments increase strictly (numbers, strings bytewise, lists)."
    ),
    builtin!(
        ">",
        "a b...",
        Comparison,
        1,
        ANY,
        N(gt),
        "Whether the arguments decrease strictly."
    ),
    builtin!(
        "<=",
        "a b...",
        Comparison,
        1,
        ANY,
        N(le),
        "Whether the arguments never decrease."
    ),
    builtin!(
        ">=",
        "a b...",
        Comparison,
        1,
        ANY,
        N(ge),
        "Whether the arguments never increase."
    ),
    builtin!(
        "not",
        "x",
        Comparison,
        1,
        1,
        N(not),
        "true for nil and false, else false."
    ),
    builtin!(
        "type",
        "x",
        Comparison,
        1,
        1,
        N(type_of),
        "The type's name as a symbol: nil bool int float string symbol list function."
    ),
    builtin!(
        "nil?",
        "x",
        Comparison,
        1,
        1,
        N(is_nil),
        "Whether x is nil."
    ),
    builtin!(
        "number?",
        "x",
        Comparison,
        1,
        1,
        N(is_number),
        "Whether x is an integer or a float."
    ),
    builtin!(
        "string?",
        "x",
        Comparison,
        1,
        1,
        N(is_string),
        "Whether x is a string."
    ),
    builtin!(
        "list?",
        "x",
        Comparison,
        1,
        1,
        N(is_list),
        "Whether x is a list."
    ),
    builtin!(
        "fn?",
        "x",
        Comparison,
        1,
        1,
        N(is_fn),
        "Whether x is a function."
    ),
    builtin!(
        "str",
        "x...",
        Strings,
        0,
        ANY,
        N(str_),
        "The arguments as printed by print, concatenated into one string."
    ),
    builtin!(
        "concat",
        "a b...",
        Strings,
        0,
        ANY,
        N(concat),
        "Joins strings into a string, or lists into a list."
    ),
    builtin!(
        "length",
        "x",
        Strings,
        1,
        1,
        N(length),
        "The number of bytes of a string or items of a list (0 for nil)."
    ),
    builtin!(
        "slice",
        "x start [end]",
        Strings,
        2,
        3,
        N(slice),
        "The bytes (or items) from start up to end; negative indexes count from the end; \
         out-of-range indexes are clamped."
    ),
    builtin!(
        "format",
        "template x...",
        Strings,
        1,
        ANY,
        N(format_),
        "The template with each {} replaced by the next argument as print shows it ({{ and }} \
         for braces)."
    ),
    builtin!(
        "parse-int",
        "s [radix]",
        Strings,
        1,
        2,
        N(parse_int),
        "The integer written in s (spaces around it allowed), or nil if it is not one."
    ),
    builtin!(
        "parse-float",
        "s",
        Strings,
        1,
        1,
        N(parse_float),
        "The number written in s as a float, or nil if it is not one."
    ),
    builtin!(
        "split",
        "s separator",
        Strings,
        2,
        2,
        N(split),
        "The parts of s between occurrences of separator."
    ),
    builtin!(
        "join",
        "list [separator]",
        Strings,
        1,
        2,
        N(join),
        "The items as print shows them, joined by separator (none by default)."
    ),
    builtin!(
        "upper",
        "s",
        Strings,
        1,
        1,
        N(upper),
        "s with ASCII letters in upper case."
    ),
    builtin!(
        "lower",
        "s",
        Strings,
        1,
        1,
        N(lower),
        "s with ASCII letters in lower case."
    ),
    builtin!(
        "trim",
        "s",
        Strings,
        1,
        1,
        N(trim),
        "s without ASCII white space at either end."
    ),
    builtin!(
        "starts-with?",
        "s prefix",
        Strings,
        2,
        2,
        N(starts_with),
        "Whether s starts with prefix."
    ),
    builtin!(
        "ends-with?",
        "s suffix",
        Strings,
        2,
        2,
        N(ends_with),
        "Whether s ends with suffix."
    ),
    builtin!(
        "contains?",
        "x part",
        Strings,
        2,
        2,
        N(contains),
        "Whether string x contains the string part, or list x an item equal to part."
    ),
    builtin!(
        "list",
        "x...",
        Lists,
        0,
        ANY,
        N(list),
        "A list of the arguments."
    ),
    builtin!(
        "cons",
        "x list",
        Lists,
        2,
        2,
        N(cons),
        "A list of x followed by the items of list."
    ),
    builtin!(
        "first",
        "list",
        Lists,
        1,
        1,
        N(first),
        "The first item, or nil if the list is empty."
    ),
    builtin!(
        "rest",
        "list",
        Lists,
        1,
        1,
        N(rest),
        "The list without its first item (shares the items; no copy)."
    ),
    builtin!(
        "nth",
        "list n",
        Lists,
        2,
        2,
        N(nth),
        "Item n (from 0), or nil if there is none."
    ),
    builtin!(
        "last",
        "list",
        Lists,
        1,
        1,
        N(last),
        "The last item, or nil if the list is empty."
    ),
    builtin!(
        "reverse",
        "x",
        Lists,
        1,
        1,
        N(reverse),
        "The items (or bytes of a string) in reverse order."
    ),
    builtin!(
        "empty?",
        "x",
        Lists,
        1,
        1,
        N(is_empty),
        "Whether x is nil, an empty list or an empty string."
    ),
    builtin!(
        "range",
        "[start] end [step]",
        Lists,
        1,
        3,
        N(range),
        "The integers from start (default 0) up to end, excluded, by step (default 1)."
    ),
    builtin!(
        "sort",
        "list",
        Lists,
        1,
        1,
        N(sort),
        "The items in natural order (numbers, strings bytewise, lists); mixed kinds are an \
         error."
    ),
    builtin!(
        "map",
        "f list",
        Lists,
        2,
        2,
        Imp::Map,
        "The list of (f item) for each item."
    ),
    builtin!(
        "filter",
        "f list",
        Lists,
        2,
        2,
        Imp::Filter,
        "The items for which (f item) is true."
    ),
    builtin!(
        "fold",
        "f init list",
        Lists,
        3,
        3,
        Imp::Fold,
        "Combines the items from the left: (f (f init item0) item1)..."
    ),
    builtin!(
        "apply",
        "f list",
        Lists,
        2,
        2,
        Imp::Apply,
        "Calls f with the items of list as its arguments."
    ),
    builtin!(
        "print",
        "x...",
        Output,
        0,
        ANY,
        N(print),
        "Prints the arguments separated by spaces: strings as their bytes, other values as \
         written."
    ),
    builtin!(
        "println",
        "x...",
        Output,
        0,
        ANY,
        N(println),
        "Like print, then a newline."
    ),
    builtin!(
        "error",
        "template x...",
        Output,
        1,
        ANY,
        N(error),
        "Raises an error whose message is (format template x...); try catches it."
    ),
];

// Arithmetic.

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn num(ctx: &Ctx<'_>, args: &[Value], i: usize) -> Result<Num> {
    match &args[i] {
        Value::Int(n) => Ok(Num::Int(*n)),
        Value::Float(x) => Ok(Num::Float(*x)),
        other => Err(ctx.bad_arg(i, "a number", other)),
    }
}

fn float_of(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(x) => x,
    }
}

fn num_value(n: Num) -> Value {
    match n {
        Num::Int(i) => Value::Int(i),
        Num::Float(x) => Value::Float(x),
    }
}

fn overflow(ctx: &Ctx<'_>) -> Error {
    Error::eval(format!("`{}`: integer overflow", ctx.name))
}

fn fold_nums(
    ctx: &Ctx<'_>,
    args: &[Value],
    start: Num,
    int_op: fn(i64, i64) -> Option<i64>,
    float_op: fn(f64, f64) -> f64,
) -> Result<Value> {
    let mut acc = start;
    for i in 0..args.len() {
        let n = num(ctx, args, i)?;
        acc = match (acc, n) {
            (Num::Int(a), Num::Int(b)) => Num::Int(int_op(a, b).ok_or_else(|| overflow(ctx))?),
            (a, b) => Num::Float(float_op(float_of(a), float_of(b))),
        };
    }
    Ok(num_value(acc))
}

fn add(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    fold_nums(ctx, args, Num::Int(0), i64::checked_add, |a, b| a + b)
}

fn mul(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    fold_nums(ctx, args, Num::Int(1), i64::checked_mul, |a, b| a * b)
}

fn sub(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let first = num(ctx, args, 0)?;
    if args.len() == 1 {
        return match first {
            Num::Int(a) => a.checked_neg().map(Value::Int).ok_or_else(|| overflow(ctx)),
            Num::Float(x) => Ok(Value::Float(-x)),
        };
    }
    let mut acc = first;
    for i in 1..args.len() {
        acc = match (acc, num(ctx, args, i)?) {
            (Num::Int(a), Num::Int(b)) => Num::Int(a.checked_sub(b).ok_or_else(|| overflow(ctx))?),
            (a, b) => Num::Float(float_of(a) - float_of(b)),
        };
    }
    Ok(num_value(acc))
}

fn div(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let (mut acc, from) = if args.len() == 1 {
        (Num::Int(1), 0)
    } else {
        (num(ctx, args, 0)?, 1)
    };
    for i in from..args.len() {
        let d = num(ctx, args, i)?;
        if float_of(d) == 0.0 {
            return Err(Error::eval("`/`: division by zero"));
        }
        acc = match (acc, d) {
            (Num::Int(a), Num::Int(b)) => Num::Int(a.checked_div(b).ok_or_else(|| overflow(ctx))?),
            (a, b) => Num::Float(float_of(a) / float_of(b)),
        };
    }
    Ok(num_value(acc))
}

fn modulo(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match (num(ctx, args, 0)?, num(ctx, args, 1)?) {
        (_, Num::Int(0)) => Err(Error::eval("`mod`: division by zero")),
        (Num::Int(a), Num::Int(b)) => a
            .checked_rem_euclid(b)
            .map(Value::Int)
            .ok_or_else(|| overflow(ctx)),
        (a, b) => {
            let (a, b) = (float_of(a), float_of(b));
            if b == 0.0 {
                return Err(Error::eval("`mod`: division by zero"));
            }
            let r = a % b;
            Ok(Value::Float(if r < 0.0 { r + b.abs() } else { r }))
        }
    }
}

fn abs(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match num(ctx, args, 0)? {
        Num::Int(a) => a.checked_abs().map(Value::Int).ok_or_else(|| overflow(ctx)),
        Num::Float(x) => Ok(Value::Float(if x < 0.0 { -x } else { x })),
    }
}

fn extreme(ctx: &Ctx<'_>, args: &[Value], keep: Ordering) -> Result<Value> {
    let mut best = num(ctx, args, 0).map(|_| args[0].clone())?;
    for i in 1..args.len() {
        num(ctx, args, i)?;
        if compare(&args[i], &best) == Some(keep) {
            best = args[i].clone();
        }
    }
    Ok(best)
}

fn min(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    extreme(ctx, args, Ordering::Less)
}

fn max(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    extreme(ctx, args, Ordering::Greater)
}

fn to_int(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Float(x)
            if x.is_finite()
                && *x >= -9.223_372_036_854_776e18
                && *x < 9.223_372_036_854_776e18 =>
        {
            Ok(Value::Int(*x as i64))
        }
        Value::Float(_) => Err(Error::eval("`int`: the float is out of the integer range")),
        Value::Str(s) => match parse_int_bytes(s.as_bytes(), 10) {
            Some(n) => Ok(Value::Int(n)),
            None => Err(ctx.bad_arg(0, "a number or a string holding an integer", &args[0])),
        },
        other => Err(ctx.bad_arg(0, "a number or a string", other)),
    }
}

fn to_float(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Float(*n as f64)),
        Value::Float(x) => Ok(Value::Float(*x)),
        Value::Str(s) => match parse_float_bytes(s.as_bytes()) {
            Some(x) => Ok(Value::Float(x)),
            None => Err(ctx.bad_arg(0, "a number or a string holding a number", &args[0])),
        },
        other => Err(ctx.bad_arg(0, "a number or a string", other)),
    }
}

// Comparison.

fn eq(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(args.windows(2).all(|w| equal(&w[0], &w[1]))))
}

fn ne(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(!equal(&args[0], &args[1])))
}

fn chain(ctx: &Ctx<'_>, args: &[Value], ok: fn(Ordering) -> bool) -> Result<Value> {
    for (i, w) in args.windows(2).enumerate() {
        match compare(&w[0], &w[1]) {
            Some(o) if ok(o) => {}
            Some(_) => return Ok(Value::Bool(false)),
            None => {
                return Err(Error::eval(format!(
                    "`{}`: cannot compare {} with {} (argument {})",
                    ctx.name,
                    super::describe(&w[0]),
                    super::describe(&w[1]),
                    i + 2
                )))
            }
        }
    }
    Ok(Value::Bool(true))
}

fn lt(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    chain(ctx, args, |o| o == Ordering::Less)
}

fn gt(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    chain(ctx, args, |o| o == Ordering::Greater)
}

fn le(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    chain(ctx, args, |o| o != Ordering::Greater)
}

fn ge(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    chain(ctx, args, |o| o != Ordering::Less)
}

fn not(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(!args[0].is_truthy()))
}

fn type_of(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::symbol(args[0].type_name()))
}

fn is_nil(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Nil)))
}

fn is_number(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(
        args[0],
        Value::Int(_) | Value::Float(_)
    )))
}

fn is_string(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Str(_))))
}

fn is_list(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::List(_))))
}

fn is_fn(_: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(
        args[0],
        Value::Lambda(_) | Value::Builtin(_)
    )))
}

// Strings.

fn str_(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let mut out = Vec::new();
    for a in args {
        a.display_bytes(&mut out);
    }
    ctx.string(out)
}

fn concat(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    if args.iter().all(|a| matches!(a, Value::Str(_))) {
        let mut out = Vec::new();
        for a in args {
            out.extend_from_slice(a.as_bytes().unwrap_or_default());
        }
        return ctx.string(out);
    }
    let mut total = 0usize;
    for i in 0..args.len() {
        total = total.saturating_add(
            ctx.items(args, i)
                .map_err(|_| {
                    ctx.bad_arg(i, "a list (all lists) or a string (all strings)", &args[i])
                })?
                .len(),
        );
    }
    ctx.check_items(total)?;
    let mut out = Vec::with_capacity(total);
    for i in 0..args.len() {
        out.extend_from_slice(ctx.items(args, i)?);
    }
    ctx.list(out)
}

fn length(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let n = match &args[0] {
        Value::Str(s) => s.as_bytes().len(),
        Value::List(l) => l.len(),
        Value::Nil => 0,
        other => return Err(ctx.bad_arg(0, "a string or a list", other)),
    };
    Ok(Value::Int(n as i64))
}

/// Resolves `[start, end)` over a length: negative indexes count from the end; clamped.
fn bounds(ctx: &Ctx<'_>, args: &[Value], len: usize) -> Result<(usize, usize)> {
    let resolve = |i: i64| -> usize {
        if i < 0 {
            len.saturating_sub(i.unsigned_abs() as usize)
        } else {
            (i as u64).min(len as u64) as usize
        }
    };
    let start = resolve(ctx.int(args, 1)?);
    let end = if args.len() > 2 {
        resolve(ctx.int(args, 2)?)
    } else {
        len
    };
    Ok((start, end.max(start)))
}

fn slice(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Str(s) => {
            let (a, b) = bounds(ctx, args, s.as_bytes().len())?;
            ctx.string(s.as_bytes()[a..b].to_vec())
        }
        Value::List(l) => {
            let (a, b) = bounds(ctx, args, l.len())?;
            ctx.list(l.items()[a..b].to_vec())
        }
        Value::Nil => Ok(Value::Nil),
        other => Err(ctx.bad_arg(0, "a string or a list", other)),
    }
}

/// Formats `template` with `args` (`{}` placeholders).
pub(crate) fn format_bytes(name: &str, template: &[u8], args: &[Value]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(template.len());
    let mut next = 0;
    let mut i = 0;
    while i < template.len() {
        match (template[i], template.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => {
                out.push(template[i]);
                i += 2;
            }
            (b'{', Some(b'}')) => {
                let Some(arg) = args.get(next) else {
                    return Err(Error::eval(format!(
                        "`{name}`: the template has more {{}} than the {} arguments given",
                        args.len()
                    )));
                };
                arg.display_bytes(&mut out);
                next += 1;
                i += 2;
            }
            (b'{' | b'}', _) => {
                return Err(Error::eval(format!(
                    "`{name}`: unmatched `{}` in the template at byte {i} (write {{{{ or }}}})",
                    template[i] as char
                )))
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    if next < args.len() {
        return Err(Error::eval(format!(
            "`{name}`: {} arguments given but the template has {next} {{}}",
            args.len()
        )));
    }
    Ok(out)
}

fn format_(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let template = ctx.bytes(args, 0)?;
    let out = format_bytes(ctx.name, template, &args[1..])?;
    ctx.string(out)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

pub(crate) fn parse_int_bytes(b: &[u8], radix: u32) -> Option<i64> {
    let text = core::str::from_utf8(trim_ascii(b)).ok()?;
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.starts_with('+') || digits.is_empty() {
        return None;
    }
    i64::from_str_radix(digits, radix).ok()
}

fn parse_float_bytes(b: &[u8]) -> Option<f64> {
    let text = core::str::from_utf8(trim_ascii(b)).ok()?;
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    ok.then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|x| x.is_finite())
}

fn parse_int(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let radix = if args.len() > 1 {
        ctx.int(args, 1)?
    } else {
        10
    };
    if !(2..=36).contains(&radix) {
        return Err(Error::eval("`parse-int`: the radix must be 2 to 36"));
    }
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Str(s) => {
            Ok(parse_int_bytes(s.as_bytes(), radix as u32).map_or(Value::Nil, Value::Int))
        }
        Value::Nil => Ok(Value::Nil),
        other => Err(ctx.bad_arg(0, "a string", other)),
    }
}

fn parse_float(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Float(*n as f64)),
        Value::Float(x) => Ok(Value::Float(*x)),
        Value::Str(s) => Ok(parse_float_bytes(s.as_bytes()).map_or(Value::Nil, Value::Float)),
        Value::Nil => Ok(Value::Nil),
        other => Err(ctx.bad_arg(0, "a string", other)),
    }
}

fn split(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let s = ctx.bytes(args, 0)?;
    let sep = ctx.bytes(args, 1)?;
    if sep.is_empty() {
        return Err(Error::eval("`split`: the separator must not be empty"));
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            parts.push(&s[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(&s[start..]);
    ctx.check_items(parts.len())?;
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        out.push(ctx.string(p.to_vec())?);
    }
    ctx.list(out)
}

fn join(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let items = ctx.items(args, 0)?;
    let sep = if args.len() > 1 {
        ctx.bytes(args, 1)?
    } else {
        b""
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        item.display_bytes(&mut out);
    }
    ctx.string(out)
}

fn map_bytes(ctx: &Ctx<'_>, args: &[Value], f: fn(&[u8]) -> Vec<u8>) -> Result<Value> {
    let s = ctx.bytes(args, 0)?;
    ctx.string(f(s))
}

fn upper(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    map_bytes(ctx, args, <[u8]>::to_ascii_uppercase)
}

fn lower(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    map_bytes(ctx, args, <[u8]>::to_ascii_lowercase)
}

fn trim(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    map_bytes(ctx, args, |b| trim_ascii(b).to_vec())
}

fn starts_with(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(
        ctx.bytes(args, 0)?.starts_with(ctx.bytes(args, 1)?),
    ))
}

fn ends_with(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(
        ctx.bytes(args, 0)?.ends_with(ctx.bytes(args, 1)?),
    ))
}

fn contains(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Str(s) => {
            let part = ctx.bytes(args, 1)?;
            let s = s.as_bytes();
            let found = part.is_empty() || s.windows(part.len()).any(|w| w == part);
            Ok(Value::Bool(found))
        }
        Value::List(l) => Ok(Value::Bool(l.items().iter().any(|v| equal(v, &args[1])))),
        Value::Nil => Ok(Value::Bool(false)),
        other => Err(ctx.bad_arg(0, "a string or a list", other)),
    }
}

// Lists.

fn list(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    ctx.list(args.to_vec())
}

fn cons(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let tail = ctx.items(args, 1)?;
    ctx.check_items(tail.len() + 1)?;
    let mut out = Vec::with_capacity(tail.len() + 1);
    out.push(args[0].clone());
    out.extend_from_slice(tail);
    ctx.list(out)
}

fn first(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(ctx.items(args, 0)?.first().cloned().unwrap_or_default())
}

fn last(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    Ok(ctx.items(args, 0)?.last().cloned().unwrap_or_default())
}

fn rest(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::List(l) => Ok(Value::List(l.skip(1))),
        Value::Nil => ctx.list(Vec::new()),
        other => Err(ctx.bad_arg(0, "a list", other)),
    }
}

fn nth(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let items = ctx.items(args, 0)?;
    let n = ctx.int(args, 1)?;
    Ok(usize::try_from(n)
        .ok()
        .and_then(|n| items.get(n))
        .cloned()
        .unwrap_or_default())
}

fn reverse(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    if let Value::Str(s) = &args[0] {
        let mut b = s.as_bytes().to_vec();
        b.reverse();
        return ctx.string(b);
    }
    let mut items = ctx.items(args, 0)?.to_vec();
    items.reverse();
    ctx.list(items)
}

fn is_empty(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    match &args[0] {
        Value::Str(s) => Ok(Value::Bool(s.as_bytes().is_empty())),
        Value::List(l) => Ok(Value::Bool(l.is_empty())),
        Value::Nil => Ok(Value::Bool(true)),
        other => Err(ctx.bad_arg(0, "a string, a list or nil", other)),
    }
}

fn range(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let (start, end) = if args.len() == 1 {
        (0, ctx.int(args, 0)?)
    } else {
        (ctx.int(args, 0)?, ctx.int(args, 1)?)
    };
    let step = if args.len() == 3 {
        ctx.int(args, 2)?
    } else {
        1
    };
    if step == 0 {
        return Err(Error::eval("`range`: the step must not be 0"));
    }
    let span = if step > 0 {
        (end as i128 - start as i128).max(0)
    } else {
        (start as i128 - end as i128).max(0)
    };
    let step_abs = i128::from(step).abs();
    let count = (span + step_abs - 1) / step_abs;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    ctx.check_items(count)?;
    let mut out = Vec::with_capacity(count);
    let mut x = i128::from(start);
    for _ in 0..count {
        // Every x lies between start and end, so it fits in an i64.
        out.push(Value::Int(x as i64));
        x += i128::from(step);
    }
    ctx.list(out)
}

fn sort(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let mut items = ctx.items(args, 0)?.to_vec();
    for w in items.windows(2) {
        if compare(&w[0], &w[1]).is_none() {
            return Err(Error::eval(format!(
                "`sort`: cannot compare {} with {}",
                super::describe(&w[0]),
                super::describe(&w[1])
            )));
        }
    }
    let mut incomparable = false;
    items.sort_by(|a, b| {
        compare(a, b).unwrap_or_else(|| {
            incomparable = true;
            Ordering::Equal
        })
    });
    if incomparable {
        return Err(Error::eval(
            "`sort`: the items are of kinds that do not compare",
        ));
    }
    ctx.list(items)
}

// Output.

fn print_args(ctx: &mut Ctx<'_>, args: &[Value], newline: bool) -> Result<Value> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        a.display_bytes(&mut out);
    }
    if newline {
        out.push(b'\n');
    }
    ctx.backend.print(&out)?;
    Ok(Value::Nil)
}

fn print(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    print_args(ctx, args, false)
}

fn println(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    print_args(ctx, args, true)
}

fn error(ctx: &mut Ctx<'_>, args: &[Value]) -> Result<Value> {
    let message = match &args[0] {
        Value::Str(s) => format_bytes(ctx.name, s.as_bytes(), &args[1..])?,
        other => {
            let mut out = Vec::new();
            other.display_bytes(&mut out);
            for a in &args[1..] {
                out.push(b' ');
                a.display_bytes(&mut out);
            }
            out
        }
    };
    Err(Error::new(
        ErrorKind::User,
        String::from_utf8_lossy(&message).into_owned(),
    ))
}
