//! The built-in functions: one table of names, arities, docs and implementations.
//!
//! Most are plain functions of their arguments ([`Imp::Native`]). The ones that call back
//! into the language (`map`, `filter`, `fold`, `apply`) are run by the evaluator's machine
//! instead, so that a function they call gets no native stack frame of its own.

mod data;
mod db;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::meter::Meter;
use crate::value::{List, Value};

/// How a built-in runs.
#[derive(Clone, Copy)]
pub(crate) enum Imp {
    /// A function of its arguments.
    Native(fn(&mut Ctx<'_>, &[Value]) -> Result<Value>),
    /// `(map f list)`.
    Map,
    /// `(filter f list)`.
    Filter,
    /// `(fold f init list)`.
    Fold,
    /// `(apply f list)`.
    Apply,
}

/// The family a built-in belongs to (how `(help)` groups them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Numbers.
    Arithmetic,
    /// Equality, order, logic, types.
    Comparison,
    /// Byte strings.
    Strings,
    /// Lists.
    Lists,
    /// Printing and errors.
    Output,
    /// The database.
    Database,
}

impl Group {
    /// Every group, in the order `(help)` lists them.
    pub const ALL: [Group; 6] = [
        Group::Arithmetic,
        Group::Comparison,
        Group::Strings,
        Group::Lists,
        Group::Output,
        Group::Database,
    ];

    /// The group's title.
    pub fn title(self) -> &'static str {
        match self {
            Group::Arithmetic => "arithmetic",
            Group::Comparison => "comparison, logic and types",
            Group::Strings => "strings",
            Group::Lists => "lists",
            Group::Output => "output and errors",
            Group::Database => "database",
        }
    }
}

/// A built-in function.
pub struct Builtin {
    /// Its name.
    pub name: &'static str,
    /// Its parameters as `(help)` shows them, e.g. `key value [ttl [flags]]`.
    pub params: &'static str,
    /// What it does, in one or two sentences.
    pub doc: &'static str,
    /// Its family.
    pub group: Group,
    pub(crate) min: usize,
    /// `usize::MAX`: any number.
    pub(crate) max: usize,
    pub(crate) imp: Imp,
}

impl core::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "#<builtin {}>", self.name)
    }
}

/// Any number of arguments.
pub(crate) const ANY: usize = usize::MAX;

/// Every built-in function.
pub fn all() -> impl Iterator<Item = &'static Builtin> {
    data::TABLE.iter().chain(db::TABLE.iter())
}

/// A built-in by name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    all().find(|b| b.name == name)
}

/// What a native built-in gets besides its arguments.
pub(crate) struct Ctx<'a> {
    pub(crate) name: &'static str,
    pub(crate) meter: &'a Meter,
    pub(crate) nesting_max: usize,
    pub(crate) backend: &'a mut dyn Backend,
}

impl Ctx<'_> {
    pub(crate) fn string(&self, bytes: Vec<u8>) -> Result<Value> {
        Value::string(self.meter, bytes)
    }

    pub(crate) fn list(&self, items: Vec<Value>) -> Result<Value> {
        Ok(Value::List(List::new(self.meter, items, self.nesting_max)?))
    }

    /// Fails early, before allocating, if `items` more list slots would pass the budget.
    pub(crate) fn check_items(&self, items: usize) -> Result<()> {
        let bytes = items.saturating_mul(core::mem::size_of::<Value>());
        self.meter.charge(bytes).map(drop)
    }

    /// An error about argument `i` (0-based).
    pub(crate) fn bad_arg(&self, i: usize, wanted: &str, got: &Value) -> Error {
        Error::eval(format!(
            "`{}`: argument {} must be {wanted}, got {}",
            self.name,
            i + 1,
            describe(got)
        ))
    }

    pub(crate) fn int(&self, args: &[Value], i: usize) -> Result<i64> {
        match &args[i] {
            Value::Int(n) => Ok(*n),
            other => Err(self.bad_arg(i, "an integer", other)),
        }
    }

    pub(crate) fn bytes<'v>(&self, args: &'v [Value], i: usize) -> Result<&'v [u8]> {
        match &args[i] {
            Value::Str(s) => Ok(s.as_bytes()),
            other => Err(self.bad_arg(i, "a string", other)),
        }
    }

    /// A list argument; `nil` counts as the empty list.
    pub(crate) fn items<'v>(&self, args: &'v [Value], i: usize) -> Result<&'v [Value]> {
        match &args[i] {
            Value::List(l) => Ok(l.items()),
            Value::Nil => Ok(&[]),
            other => Err(self.bad_arg(i, "a list", other)),
        }
    }
}

/// A value's type and a short rendering of it, for error messages.
pub(crate) fn describe(v: &Value) -> String {
    let mut repr = v.repr();
    if repr.len() > 40 {
        let mut cut = 37;
        while !repr.is_char_boundary(cut) {
            cut -= 1;
        }
        repr.truncate(cut);
        repr.push_str("...");
    }
    match v {
        Value::Nil => String::from("nil"),
        _ => format!("{} {repr}", v.type_name()),
    }
}

/// The arity error of calling `name` with `got` arguments.
pub(crate) fn arity_error(name: &str, min: usize, max: usize, got: usize) -> Error {
    let wanted = if min == max {
        format!("{min}")
    } else if max == ANY {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    };
    let singular = min == 1 && (max == 1 || max == ANY);
    let plural = if singular { "" } else { "s" };
    Error::eval(format!(
        "`{name}` takes {wanted} argument{plural}, got {got}"
    ))
}
