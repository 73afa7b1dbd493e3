//! Values: nil, booleans, 64-bit integers, floats, byte strings, symbols, lists and functions.
//!
//! Heap values (strings, lists, functions) are reference counted and hold a [`Charge`] on the
//! interpreter's memory meter. Lists are vectors with a start offset, so `rest` is O(1) and a
//! long list is never a deep chain. Every list records how deeply lists nest inside it, and
//! construction refuses to pass the nesting cap: the recursive walks over data (printing,
//! equality, ordering) are therefore bounded. Dropping is iterative (see [`teardown`]), so a
//! long chain of closures capturing closures cannot overflow the stack either.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::cmp::Ordering;
use core::fmt::Write as _;

use crate::builtins::Builtin;
use crate::env::Env;
use crate::error::{Error, Limit, Pos, Result};
use crate::meter::{Charge, Meter};

/// Bytes charged for a string on top of its contents.
pub(crate) const STR_OVERHEAD_BYTES: usize = 48;
/// Bytes charged for a list on top of its items.
pub(crate) const LIST_OVERHEAD_BYTES: usize = 64;
/// Bytes charged for a function value.
pub(crate) const LAMBDA_BYTES: usize = 128;

/// A symbol: a name.
#[derive(Debug, Clone)]
pub struct Symbol(pub(crate) Rc<str>);

impl Symbol {
    /// A symbol named `name`.
    pub fn new(name: &str) -> Symbol {
        Symbol(Rc::from(name))
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Symbol {
    fn eq(&self, other: &Symbol) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl Eq for Symbol {}

/// A byte string.
#[derive(Debug)]
pub(crate) struct StrData {
    bytes: Vec<u8>,
    _charge: Charge,
}

/// A shared, immutable byte string.
#[derive(Debug, Clone)]
pub struct Str(Rc<StrData>);

impl Str {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }
}

/// Source positions of a list read from text: the list's own and each item's.
#[derive(Debug, Clone)]
pub(crate) struct SrcPos {
    pub(crate) list: Pos,
    pub(crate) items: Vec<Pos>,
}

/// The storage of a list.
#[derive(Debug)]
pub(crate) struct ListData {
    items: Vec<Value>,
    /// 1 + the deepest nesting of a list item (0 for none).
    depth: u32,
    src: Option<SrcPos>,
    _charge: Charge,
}

/// A list: shared items and a start offset (so `rest` does not copy).
#[derive(Debug, Clone)]
pub struct List {
    data: Rc<ListData>,
    start: usize,
}

impl List {
    /// A list of `items`, charged on `meter`; fails if it would nest deeper than
    /// `nesting_max` or pass the memory budget.
    pub(crate) fn new(meter: &Meter, items: Vec<Value>, nesting_max: usize) -> Result<List> {
        List::with_src(meter, items, nesting_max, None)
    }

    pub(crate) fn with_src(
        meter: &Meter,
        items: Vec<Value>,
        nesting_max: usize,
        src: Option<SrcPos>,
    ) -> Result<List> {
        let inner = items.iter().map(Value::depth).max().unwrap_or(0);
        let depth = inner + 1;
        if depth as usize > nesting_max {
            return Err(Error::limit(
                Limit::Nesting,
                alloc::format!("lists nested deeper than {nesting_max}"),
            ));
        }
        let bytes = LIST_OVERHEAD_BYTES + items.len() * core::mem::size_of::<Value>();
        let charge = meter.charge(bytes)?;
        Ok(List {
            data: Rc::new(ListData {
                items,
                depth,
                src,
                _charge: charge,
            }),
            start: 0,
        })
    }

    /// The items.
    pub fn items(&self) -> &[Value] {
        &self.data.items[self.start..]
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items().len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.items().is_empty()
    }

    /// The list without its first `n` items (shares storage).
    pub fn skip(&self, n: usize) -> List {
        List {
            data: self.data.clone(),
            start: (self.start + n).min(self.data.items.len()),
        }
    }

    /// Where the list was read, if it came from source text.
    pub fn pos(&self) -> Option<Pos> {
        self.data.src.as_ref().map(|s| s.list)
    }

    /// Where item `i` was read, else where the list was read.
    pub fn item_pos(&self, i: usize) -> Option<Pos> {
        let src = self.data.src.as_ref()?;
        Some(src.items.get(self.start + i).copied().unwrap_or(src.list))
    }

    fn depth(&self) -> u32 {
        self.data.depth
    }
}

/// A function written in the language.
#[derive(Debug)]
pub struct Lambda {
    pub(crate) name: RefCell<Option<Symbol>>,
    pub(crate) params: Vec<Symbol>,
    pub(crate) rest: Option<Symbol>,
    /// The body forms.
    pub(crate) body: List,
    /// The environment it closes over (`None`: the global one).
    pub(crate) env: Option<Rc<Env>>,
    pub(crate) _charge: Charge,
}

impl Lambda {
    /// The name it was defined under, if any.
    pub fn name(&self) -> Option<Symbol> {
        self.name.borrow().clone()
    }
}

/// A value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Nothing; also what a missing key reads as. Falsy.
    #[default]
    Nil,
    /// `true` or `false` (falsy).
    Bool(bool),
    /// A 64-bit signed integer; arithmetic on it is checked.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A byte string (not necessarily UTF-8).
    Str(Str),
    /// A symbol.
    Symbol(Symbol),
    /// A list.
    List(List),
    /// A function written in the language.
    Lambda(Rc<Lambda>),
    /// A built-in function.
    Builtin(&'static Builtin),
}

impl Value {
    /// A string value, charged on `meter`.
    pub fn string(meter: &Meter, bytes: Vec<u8>) -> Result<Value> {
        let charge = meter.charge(STR_OVERHEAD_BYTES + bytes.len())?;
        Ok(Value::Str(Str(Rc::new(StrData {
            bytes,
            _charge: charge,
        }))))
    }

    /// A symbol value.
    pub fn symbol(name: &str) -> Value {
        Value::Symbol(Symbol::new(name))
    }

    /// Whether it counts as true: everything but `nil` and `false`.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// How deeply lists nest in it (0 for a non-list).
    pub fn depth(&self) -> u32 {
        match self {
            Value::List(l) => l.depth(),
            _ => 0,
        }
    }

    /// The type's name, as `(type x)` returns it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Symbol(_) => "symbol",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::Builtin(_) => "function",
        }
    }

    /// The bytes of a string, else `None`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The list, else `None`.
    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value as the language writes it (strings quoted and escaped); reading it back
    /// gives an equal value for nil, booleans, numbers, strings, symbols and lists.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    /// Appends [`Value::repr`] to `out`.
    pub fn write_repr(&self, out: &mut String) {
        match self {
            Value::Str(s) => write_quoted(s.as_bytes(), out),
            Value::List(l) => {
                out.push('(');
                for (i, item) in l.items().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_repr(out);
                }
                out.push(')');
            }
            other => other.write_atom(out),
        }
    }

    /// The value as `print` shows it: strings as their bytes, everything else as
    /// [`Value::repr`] (strings inside lists stay quoted).
    pub fn display_bytes(&self, out: &mut Vec<u8>) {
        match self {
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            other => out.extend_from_slice(other.repr().as_bytes()),
        }
    }

    fn write_atom(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = match self {
            Value::Nil => write!(out, "nil"),
            Value::Bool(b) => write!(out, "{b}"),
            Value::Int(n) => write!(out, "{n}"),
            Value::Float(x) => write_float(*x, out),
            Value::Symbol(s) => write!(out, "{}", s.name()),
            Value::Lambda(f) => match f.name() {
                Some(name) => write!(out, "#<fn {}>", name.name()),
                None => write!(out, "#<fn>"),
            },
            Value::Builtin(b) => write!(out, "#<builtin {}>", b.name),
            Value::Str(_) | Value::List(_) => Ok(()),
        };
    }
}

/// Floats always show a `.` or an exponent, so they read back as floats.
fn write_float(x: f64, out: &mut String) -> core::fmt::Result {
    write!(out, "{x:?}")
}

/// Appends `bytes` as a quoted string literal: UTF-8 text as is, `\"`, `\\`, `\n`, `\r`, `\t`,
/// `\0`, and other control characters and bytes that are not UTF-8 as `\xNN`.
pub fn write_quoted(bytes: &[u8], out: &mut String) {
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, bad) = match core::str::from_utf8(rest) {
            Ok(s) => (s, 0),
            Err(e) => {
                let (good, _) = rest.split_at(e.valid_up_to());
                let bad = e.error_len().unwrap_or(rest.len() - good.len());
                // `good` is valid by construction; the fallback is never taken.
                (core::str::from_utf8(good).unwrap_or(""), bad)
            }
        };
        for c in valid.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
        let after = valid.len();
        for b in &rest[after..after + bad] {
            let _ = write!(out, "\\x{b:02x}");
        }
        rest = &rest[after + bad..];
    }
    out.push('"');
}

/// Structural equality; integers and floats compare by value (`(= 1 1.0)` is true), functions
/// by identity.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Str(x), Value::Str(y)) => x.as_bytes() == y.as_bytes(),
        (Value::Symbol(x), Value::Symbol(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.items().iter().zip(y.items()).all(|(p, q)| equal(p, q))
        }
        (Value::Lambda(x), Value::Lambda(y)) => Rc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => x.name == y.name,
        _ => false,
    }
}

/// The natural order of numbers, strings (bytewise), symbols and lists (item by item); `None`
/// for values of different kinds or that have no order.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Symbol(x), Value::Symbol(y)) => Some(x.name().cmp(y.name())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Nil, Value::Nil) => Some(Ordering::Equal),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.items().iter().zip(y.items()) {
                match compare(p, q)? {
                    Ordering::Equal => {}
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => None,
    }
}

/// Something whose children may need dropping.
pub(crate) enum Node {
    Value(Value),
    Env(Rc<Env>),
}

fn has_children(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Lambda(_))
}

/// Drops `pending` without recursion: each uniquely owned list, function or environment has
/// its children moved onto the work list before it is freed, so its own `Drop` finds nothing
/// left to recurse into.
pub(crate) fn teardown(mut pending: Vec<Node>) {
    while let Some(node) = pending.pop() {
        match node {
            Node::Value(Value::List(mut list)) => {
                if let Some(data) = Rc::get_mut(&mut list.data) {
                    for item in data.items.drain(..) {
                        if has_children(&item) {
                            pending.push(Node::Value(item));
                        }
                    }
                }
            }
            Node::Value(Value::Lambda(mut f)) => {
                if let Some(lambda) = Rc::get_mut(&mut f) {
                    if let Some(env) = lambda.env.take() {
                        pending.push(Node::Env(env));
                    }
                    pending.push(Node::Value(Value::List(lambda.body.clone())));
                }
            }
            Node::Env(mut env) => {
                if let Some(env) = Rc::get_mut(&mut env) {
                    env.take_children(&mut pending);
                }
            }
            Node::Value(_) => {}
        }
    }
}

impl Drop for ListData {
    fn drop(&mut self) {
        if self.items.iter().any(has_children) {
            let pending = self.items.drain(..).map(Node::Value).collect();
            teardown(pending);
        }
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        if let Some(env) = self.env.take() {
            pending.push(Node::Env(env));
        }
        pending.push(Node::Value(Value::List(self.body.clone())));
        teardown(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_escape_controls_and_bad_utf8() {
        let mut out = String::new();
        write_quoted(b"a\"b\\c\nd\te\x01\xffz\xc3\xa9", &mut out);
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\te\\x01\\xffzé\"");
    }

    #[test]
    fn floats_keep_a_point() {
        assert_eq!(Value::Float(1.0).repr(), "1.0");
        assert_eq!(Value::Float(-2.5).repr(), "-2.5");
        assert_eq!(Value::Int(-7).repr(), "-7");
    }

    #[test]
    fn numbers_compare_across_kinds() {
        assert!(equal(&Value::Int(1), &Value::Float(1.0)));
        assert_eq!(
            compare(&Value::Int(1), &Value::Float(1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&Value::Int(1), &Value::Nil), None);
    }

    #[test]
    fn lists_refuse_to_nest_past_the_cap() {
        let meter = Meter::new(0);
        let mut v = Value::Nil;
        for _ in 0..10 {
            v = Value::List(List::new(&meter, alloc::vec![v], 10).unwrap());
        }
        let err = List::new(&meter, alloc::vec![v], 10).unwrap_err();
        assert_eq!(err.limit_hit(), Some(Limit::Nesting));
    }
}
