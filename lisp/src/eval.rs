//! The evaluator: a machine with an explicit stack of pending work, so evaluation never
//! recurses on the native stack.
//!
//! Each step either evaluates an expression ([`Ctl::Eval`]) or hands a value to the frame on
//! top of the stack ([`Ctl::Return`]). Function bodies and the branches of `if`, `cond`, `and`
//! and `or` run in tail position: they replace the current work instead of stacking on it, so
//! a loop written as tail recursion runs in constant space. `map`, `filter` and `fold` are
//! frames too. Errors unwind the stack to the nearest `try`.
//!
//! Every step counts against the step budget and checks the interrupt flag; the clock is read
//! every [`CLOCK_EVERY_STEPS`] steps. The stack length is the recursion depth that the depth
//! cap bounds.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::backend::Backend;
use crate::builtins::{self, arity_error, describe, Ctx, Imp};
use crate::env::Env;
use crate::error::{Error, Limit, Pos, Result};
use crate::forms::{help_for, help_overview, special_form};
use crate::meter::Meter;
use crate::reader::{read_all, Form};
use crate::value::{Lambda, List, Symbol, Value, LAMBDA_BYTES};

/// The clock is read once per this many steps (and at the first).
pub const CLOCK_EVERY_STEPS: u64 = 256;

/// The limits of an interpreter. 0 means "no limit" for the step budget, the memory budget
/// and the timeout; the depth and nesting caps always apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Steps one evaluation may take (see [`Interpreter::reset_budget`]).
    pub steps_max: u64,
    /// Pending evaluations at once (the recursion depth).
    pub depth_max: usize,
    /// How deeply lists may nest, in source text and in data.
    pub nesting_max: usize,
    /// Live bytes of values, functions and environments.
    pub memory_bytes_max: usize,
    /// Wall-clock time one evaluation may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps_max: 100_000_000,
            depth_max: 10_000,
            nesting_max: 1_000,
            memory_bytes_max: 256 << 20,
            timeout_ms: 0,
        }
    }
}

type Scope = Option<Rc<Env>>;

/// What the machine does next.
enum Ctl {
    Eval(Value, Pos, Scope),
    Return(Value),
}

enum Iter {
    List(List, usize),
    Count(i64, i64),
}

/// Pending work.
enum Frame {
    /// Evaluating a call's items; `vals` holds those done (the function first).
    Call {
        form: List,
        vals: Vec<Value>,
        scope: Scope,
        pos: Pos,
    },
    /// Evaluating a body; `next` is the next form.
    Seq {
        body: List,
        next: usize,
        scope: Scope,
    },
    If {
        form: List,
        scope: Scope,
        pos: Pos,
    },
    Cond {
        clauses: List,
        index: usize,
        scope: Scope,
        pos: Pos,
    },
    Let {
        bindings: List,
        index: usize,
        body: List,
        env: Rc<Env>,
        pos: Pos,
    },
    Define {
        name: Symbol,
        scope: Scope,
    },
    Set {
        name: Symbol,
        scope: Scope,
        pos: Pos,
    },
    AndOr {
        form: List,
        next: usize,
        scope: Scope,
        is_and: bool,
    },
    While {
        form: List,
        scope: Scope,
        testing: bool,
        pos: Pos,
    },
    ForInit {
        form: List,
        var: Symbol,
        scope: Scope,
        pos: Pos,
    },
    For {
        form: List,
        var: Symbol,
        iter: Iter,
        scope: Scope,
        pos: Pos,
    },
    Try {
        var: Option<Symbol>,
        handler: List,
        scope: Scope,
    },
    Map {
        f: Value,
        items: List,
        next: usize,
        out: Vec<Value>,
        pos: Pos,
    },
    Filter {
        f: Value,
        items: List,
        next: usize,
        out: Vec<Value>,
        pos: Pos,
    },
    Fold {
        f: Value,
        items: List,
        next: usize,
        pos: Pos,
    },
}

/// An interpreter: the globals, the limits and the memory meter. Evaluate with
/// [`Interpreter::eval_str`], or [`Interpreter::read`] then [`Interpreter::eval`].
pub struct Interpreter {
    globals: BTreeMap<Rc<str>, Value>,
    limits: Limits,
    meter: Meter,
    interrupt: Option<Arc<AtomicBool>>,
    steps: u64,
    started_ms: Option<u64>,
    pos: Pos,
    in_txn: bool,
    depth_base: usize,
}

impl core::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interpreter")
            .field("limits", &self.limits)
            .field("memory_bytes", &self.meter.used())
            .finish()
    }
}

fn pos_of(list: &List, i: usize, fallback: Pos) -> Pos {
    list.item_pos(i).unwrap_or(fallback)
}

fn symbol_at(list: &List, i: usize, what: &str, pos: Pos) -> Result<Symbol> {
    match list.items().get(i) {
        Some(Value::Symbol(s)) => {
            if special_form(s.name()).is_some() {
                return Err(Error::eval(format!(
                    "cannot bind `{}`: it is a special form",
                    s.name()
                ))
                .at(pos_of(list, i, pos)));
            }
            Ok(s.clone())
        }
        Some(other) => Err(Error::eval(format!(
            "{what} must be a symbol, got {}",
            describe(other)
        ))
        .at(pos_of(list, i, pos))),
        None => Err(Error::eval(format!("{what} is missing")).at(pos)),
    }
}

fn list_at(list: &List, i: usize, what: &str, pos: Pos) -> Result<List> {
    match list.items().get(i) {
        Some(Value::List(l)) => Ok(l.clone()),
        Some(other) => Err(
            Error::eval(format!("{what} must be a list, got {}", describe(other)))
                .at(pos_of(list, i, pos)),
        ),
        None => Err(Error::eval(format!("{what} is missing")).at(pos)),
    }
}

fn shape(form: &str, syntax: &str, pos: Pos) -> Error {
    Error::eval(format!("malformed `{form}`: expected {syntax}")).at(pos)
}

fn name_lambda(value: &Value, name: &Symbol) {
    if let Value::Lambda(f) = value {
        let mut slot = f.name.borrow_mut();
        if slot.is_none() {
            *slot = Some(name.clone());
        }
    }
}

impl Interpreter {
    /// An interpreter with the built-ins defined and `limits` applied.
    pub fn new(limits: Limits) -> Interpreter {
        let mut globals = BTreeMap::new();
        for b in builtins::all() {
            globals.insert(Rc::from(b.name), Value::Builtin(b));
        }
        Interpreter {
            globals,
            meter: Meter::new(limits.memory_bytes_max),
            limits,
            interrupt: None,
            steps: 0,
            started_ms: None,
            pos: Pos::START,
            in_txn: false,
            depth_base: 0,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Changes the limits (the memory budget applies to allocations from now on).
    pub fn set_limits(&mut self, limits: Limits) {
        self.meter.set_max(limits.memory_bytes_max);
        self.limits = limits;
    }

    /// The flag that interrupts evaluation when raised (e.g. by a Ctrl-C handler). It is read
    /// at every step and never cleared here: clear it before the next evaluation.
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = Some(flag);
    }

    /// The memory meter.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// Steps taken since the last [`Interpreter::reset_budget`].
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Starts a new evaluation budget: the step count and the timeout start again.
    pub fn reset_budget(&mut self) {
        self.steps = 0;
        self.started_ms = None;
    }

    /// Reads `text`, whose first character is at `start`.
    pub fn read(&self, text: &str, start: Pos) -> Result<Vec<Form>> {
        read_all(text, start, &self.meter, self.limits.nesting_max)
    }

    /// Resets the budget, reads `text` and evaluates every form; returns the last value.
    pub fn eval_str(&mut self, text: &str, backend: &mut dyn Backend) -> Result<Value> {
        self.reset_budget();
        let mut last = Value::Nil;
        for form in self.read(text, Pos::START)? {
            last = self.eval(&form, backend)?;
        }
        Ok(last)
    }

    /// Evaluates one form within the current budget.
    pub fn eval(&mut self, form: &Form, backend: &mut dyn Backend) -> Result<Value> {
        self.in_txn = false;
        self.depth_base = 0;
        let mut stack = Vec::new();
        self.run(
            Ctl::Eval(form.value.clone(), form.pos, None),
            &mut stack,
            backend,
        )
    }

    /// The names of the special forms, built-ins and global definitions (for completion).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = crate::forms::SPECIAL_FORMS
            .iter()
            .map(|f| String::from(f.name))
            .collect();
        names.extend(self.globals.keys().map(|k| String::from(&**k)));
        names.sort();
        names.dedup();
        names
    }

    /// The value of a global variable.
    pub fn global(&self, name: &str) -> Option<Value> {
        self.globals.get(name).cloned()
    }

    fn run(
        &mut self,
        mut ctl: Ctl,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Value> {
        loop {
            self.tick(&*backend)?;
            let next = match ctl {
                Ctl::Eval(expr, pos, scope) => {
                    self.pos = pos;
                    self.eval_expr(expr, pos, scope, stack, backend)
                }
                Ctl::Return(v) => match stack.pop() {
                    None => return Ok(v),
                    Some(frame) => self.resume(frame, v, stack, backend),
                },
            };
            ctl = match next {
                Ok(c) => c,
                Err(e) => self.unwind(e, stack)?,
            };
            if stack.len() + self.depth_base > self.limits.depth_max {
                let max = self.limits.depth_max;
                return Err(Error::limit(
                    Limit::Depth,
                    format!("recursion depth limit of {max} exceeded"),
                )
                .at(self.pos));
            }
        }
    }

    fn tick(&mut self, backend: &dyn Backend) -> Result<()> {
        self.steps += 1;
        if let Some(flag) = &self.interrupt {
            if flag.load(Ordering::Relaxed) {
                return Err(Error::interrupted().at(self.pos));
            }
        }
        let max = self.limits.steps_max;
        if max != 0 && self.steps > max {
            return Err(
                Error::limit(Limit::Steps, format!("step limit of {max} exceeded")).at(self.pos),
            );
        }
        let timeout = self.limits.timeout_ms;
        if timeout != 0 && (self.started_ms.is_none() || self.steps % CLOCK_EVERY_STEPS == 0) {
            let now = backend.now_ms();
            let start = *self.started_ms.get_or_insert(now);
            if now.saturating_sub(start) > timeout {
                return Err(Error::limit(
                    Limit::Timeout,
                    format!("timeout of {timeout} ms exceeded"),
                )
                .at(self.pos));
            }
        }
        Ok(())
    }

    /// Unwinds to the nearest `try` for a catchable error.
    fn unwind(&mut self, e: Error, stack: &mut Vec<Frame>) -> Result<Ctl> {
        let e = e.at(self.pos);
        if !e.is_catchable() {
            return Err(e);
        }
        while let Some(frame) = stack.pop() {
            if let Frame::Try {
                var,
                handler,
                scope,
            } = frame
            {
                let Some(var) = var else {
                    return Ok(Ctl::Return(Value::Nil));
                };
                let message = Value::string(&self.meter, e.message.clone().into_bytes())?;
                let env = Env::new(&self.meter, scope, alloc::vec![(var, message)])?;
                return Ok(self.seq(handler, Some(env), stack));
            }
        }
        Err(e)
    }

    fn lookup(&self, name: &Symbol, scope: &Scope) -> Option<Value> {
        if let Some(env) = scope {
            if let Some(v) = Env::lookup(env, name) {
                return Some(v);
            }
        }
        self.globals.get(name.name()).cloned()
    }

    fn unbound(name: &Symbol, pos: Pos) -> Error {
        let message = if special_form(name.name()).is_some() {
            format!(
                "`{}` is a special form: it can only head a form",
                name.name()
            )
        } else {
            format!("unbound symbol `{}`", name.name())
        };
        Error::eval(message).at(pos)
    }

    fn define_in(&mut self, scope: &Scope, name: Symbol, value: Value) -> Result<()> {
        name_lambda(&value, &name);
        match scope {
            Some(env) => env.define(name, value),
            None => {
                let old = self.globals.insert(name.0, value);
                drop(old);
                Ok(())
            }
        }
    }

    fn eval_expr(
        &mut self,
        expr: Value,
        pos: Pos,
        scope: Scope,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        match expr {
            Value::Symbol(s) => self
                .lookup(&s, &scope)
                .map(Ctl::Return)
                .ok_or_else(|| Self::unbound(&s, pos)),
            Value::List(list) if !list.is_empty() => {
                if let Value::Symbol(head) = &list.items()[0] {
                    if special_form(head.name()).is_some() {
                        let head = head.clone();
                        return self.special(head.name(), list, pos, scope, stack, backend);
                    }
                }
                let vals = Vec::with_capacity(list.len());
                self.call_next(list, vals, scope, pos, stack, backend)
            }
            other => Ok(Ctl::Return(other)),
        }
    }

    /// Evaluates the items of a call in order (symbols and constants at once), then applies.
    fn call_next(
        &mut self,
        form: List,
        mut vals: Vec<Value>,
        scope: Scope,
        pos: Pos,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        let n = form.len();
        while vals.len() < n {
            let i = vals.len();
            match &form.items()[i] {
                Value::Symbol(s) => {
                    let v = self
                        .lookup(s, &scope)
                        .ok_or_else(|| Self::unbound(s, pos_of(&form, i, pos)))?;
                    vals.push(v);
                }
                Value::List(l) if !l.is_empty() => {
                    let expr = form.items()[i].clone();
                    let at = pos_of(&form, i, pos);
                    stack.push(Frame::Call {
                        form,
                        vals,
                        scope: scope.clone(),
                        pos,
                    });
                    return Ok(Ctl::Eval(expr, at, scope));
                }
                other => vals.push(other.clone()),
            }
        }
        let f = vals.remove(0);
        self.apply(f, vals, pos, stack, backend)
    }

    fn apply(
        &mut self,
        f: Value,
        args: Vec<Value>,
        pos: Pos,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        match f {
            Value::Builtin(b) => {
                if args.len() < b.min || args.len() > b.max {
                    return Err(arity_error(b.name, b.min, b.max, args.len()).at(pos));
                }
                let mut ctx = Ctx {
                    name: b.name,
                    meter: &self.meter,
                    nesting_max: self.limits.nesting_max,
                    backend,
                };
                match b.imp {
                    Imp::Native(func) => func(&mut ctx, &args)
                        .map(Ctl::Return)
                        .map_err(|e| e.at(pos)),
                    Imp::Apply => {
                        let items = ctx.items(&args, 1).map_err(|e| e.at(pos))?.to_vec();
                        let f = args.into_iter().next().unwrap_or_default();
                        self.apply(f, items, pos, stack, backend)
                    }
                    Imp::Map | Imp::Filter | Imp::Fold => {
                        let last = args.len() - 1;
                        let items = match &args[last] {
                            Value::List(l) => l.clone(),
                            Value::Nil => List::new(&self.meter, Vec::new(), 1)?,
                            other => return Err(ctx.bad_arg(last, "a list", other).at(pos)),
                        };
                        let mut args = args.into_iter();
                        let f = args.next().unwrap_or_default();
                        let frame = match b.imp {
                            Imp::Map => Frame::Map {
                                f,
                                out: Vec::with_capacity(items.len()),
                                items,
                                next: 0,
                                pos,
                            },
                            Imp::Filter => Frame::Filter {
                                f,
                                items,
                                next: 0,
                                out: Vec::new(),
                                pos,
                            },
                            _ => {
                                let init = args.next().unwrap_or_default();
                                stack.push(Frame::Fold {
                                    f,
                                    items,
                                    next: 0,
                                    pos,
                                });
                                return Ok(Ctl::Return(init));
                            }
                        };
                        self.step_list(frame, stack, backend)
                    }
                }
            }
            Value::Lambda(lambda) => self.call_lambda(&lambda, args, pos, stack),
            other => Err(Error::eval(format!("{} is not a function", describe(&other))).at(pos)),
        }
    }

    fn call_lambda(
        &mut self,
        lambda: &Rc<Lambda>,
        args: Vec<Value>,
        pos: Pos,
        stack: &mut Vec<Frame>,
    ) -> Result<Ctl> {
        let n = lambda.params.len();
        if args.len() < n || (lambda.rest.is_none() && args.len() > n) {
            let name = lambda
                .name()
                .map_or_else(|| String::from("fn"), |s| String::from(s.name()));
            let max = if lambda.rest.is_some() {
                builtins::ANY
            } else {
                n
            };
            return Err(arity_error(&name, n, max, args.len()).at(pos));
        }
        let mut vars = Vec::with_capacity(n + 1);
        let mut args = args.into_iter();
        for p in &lambda.params {
            vars.push((p.clone(), args.next().unwrap_or_default()));
        }
        if let Some(rest) = &lambda.rest {
            let rest_list = List::new(&self.meter, args.collect(), self.limits.nesting_max)?;
            vars.push((rest.clone(), Value::List(rest_list)));
        }
        let env = Env::new(&self.meter, lambda.env.clone(), vars).map_err(|e| e.at(pos))?;
        Ok(self.seq(lambda.body.clone(), Some(env), stack))
    }

    /// Evaluates `body` in order, the last form in tail position.
    fn seq(&mut self, body: List, scope: Scope, stack: &mut Vec<Frame>) -> Ctl {
        let fallback = body.pos().unwrap_or(self.pos);
        match body.len() {
            0 => Ctl::Return(Value::Nil),
            1 => Ctl::Eval(body.items()[0].clone(), pos_of(&body, 0, fallback), scope),
            _ => {
                let first = body.items()[0].clone();
                let at = pos_of(&body, 0, fallback);
                stack.push(Frame::Seq {
                    body,
                    next: 1,
                    scope: scope.clone(),
                });
                Ctl::Eval(first, at, scope)
            }
        }
    }

    /// The next call of a `map` or `filter` frame, or its result.
    fn step_list(
        &mut self,
        frame: Frame,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        let (f, item, pos) = match &frame {
            Frame::Map {
                f,
                items,
                next,
                out,
                pos,
            }
            | Frame::Filter {
                f,
                items,
                next,
                out,
                pos,
            } => match items.items().get(*next) {
                Some(item) => (f.clone(), item.clone(), *pos),
                None => {
                    let out = List::new(&self.meter, out.clone(), self.limits.nesting_max);
                    return out
                        .map(|l| Ctl::Return(Value::List(l)))
                        .map_err(|e| e.at(*pos));
                }
            },
            _ => return Ok(Ctl::Return(Value::Nil)),
        };
        let frame = match frame {
            Frame::Map {
                f,
                items,
                next,
                out,
                pos,
            } => Frame::Map {
                f,
                items,
                next: next + 1,
                out,
                pos,
            },
            Frame::Filter {
                f,
                items,
                next,
                out,
                pos,
            } => Frame::Filter {
                f,
                items,
                next: next + 1,
                out,
                pos,
            },
            other => other,
        };
        stack.push(frame);
        self.apply(f, alloc::vec![item], pos, stack, backend)
    }

    fn resume(
        &mut self,
        frame: Frame,
        v: Value,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        match frame {
            Frame::Call {
                form,
                mut vals,
                scope,
                pos,
            } => {
                vals.push(v);
                self.call_next(form, vals, scope, pos, stack, backend)
            }
            Frame::Seq { body, next, scope } => {
                let at = pos_of(&body, next, self.pos);
                let expr = body.items()[next].clone();
                if next + 1 < body.len() {
                    stack.push(Frame::Seq {
                        body,
                        next: next + 1,
                        scope: scope.clone(),
                    });
                }
                Ok(Ctl::Eval(expr, at, scope))
            }
            Frame::If { form, scope, pos } => {
                let branch = if v.is_truthy() { 2 } else { 3 };
                Ok(match form.items().get(branch) {
                    Some(expr) => Ctl::Eval(expr.clone(), pos_of(&form, branch, pos), scope),
                    None => Ctl::Return(Value::Nil),
                })
            }
            Frame::Cond {
                clauses,
                index,
                scope,
                pos,
            } => {
                if v.is_truthy() {
                    let clause = list_at(&clauses, index, "a cond clause", pos)?;
                    if clause.len() == 1 {
                        return Ok(Ctl::Return(v));
                    }
                    return Ok(self.seq(clause.skip(1), scope, stack));
                }
                self.cond_next(clauses, index + 1, scope, pos, stack)
            }
            Frame::Let {
                bindings,
                index,
                body,
                env,
                pos,
            } => {
                let binding = list_at(&bindings, index, "a let binding", pos)?;
                let name = symbol_at(&binding, 0, "a let binding's name", pos)?;
                name_lambda(&v, &name);
                env.define(name, v)?;
                self.let_next(bindings, index + 1, body, env, pos, stack)
            }
            Frame::Define { name, scope } => {
                self.define_in(&scope, name, v)?;
                Ok(Ctl::Return(Value::Nil))
            }
            Frame::Set { name, scope, pos } => {
                let found = match &scope {
                    Some(env) => Env::set(env, &name, v.clone()),
                    None => false,
                };
                if !found {
                    match self.globals.get_mut(name.name()) {
                        Some(slot) => *slot = v,
                        None => {
                            return Err(Error::eval(format!(
                                "`set!`: `{}` is not defined (use define)",
                                name.name()
                            ))
                            .at(pos))
                        }
                    }
                }
                Ok(Ctl::Return(Value::Nil))
            }
            Frame::AndOr {
                form,
                next,
                scope,
                is_and,
            } => {
                if v.is_truthy() != is_and {
                    return Ok(Ctl::Return(v));
                }
                Ok(self.and_or(form, next, scope, is_and, stack))
            }
            Frame::While {
                form,
                scope,
                testing,
                pos,
            } => {
                if testing {
                    if !v.is_truthy() {
                        return Ok(Ctl::Return(Value::Nil));
                    }
                    let body = form.skip(2);
                    stack.push(Frame::While {
                        form,
                        scope: scope.clone(),
                        testing: false,
                        pos,
                    });
                    return Ok(self.seq(body, scope, stack));
                }
                let test = form.items()[1].clone();
                let at = pos_of(&form, 1, pos);
                stack.push(Frame::While {
                    form,
                    scope: scope.clone(),
                    testing: true,
                    pos,
                });
                Ok(Ctl::Eval(test, at, scope))
            }
            Frame::ForInit {
                form,
                var,
                scope,
                pos,
            } => {
                let iter = match v {
                    Value::List(l) => Iter::List(l, 0),
                    Value::Nil => Iter::Count(0, 0),
                    Value::Int(n) => Iter::Count(0, n.max(0)),
                    other => {
                        return Err(Error::eval(format!(
                            "`for`: expected a list or a count, got {}",
                            describe(&other)
                        ))
                        .at(pos))
                    }
                };
                self.for_next(form, var, iter, scope, pos, stack)
            }
            Frame::For {
                form,
                var,
                iter,
                scope,
                pos,
            } => self.for_next(form, var, iter, scope, pos, stack),
            Frame::Try { .. } => Ok(Ctl::Return(v)),
            Frame::Map {
                f,
                items,
                next,
                mut out,
                pos,
            } => {
                out.push(v);
                let frame = Frame::Map {
                    f,
                    items,
                    next,
                    out,
                    pos,
                };
                self.step_list(frame, stack, backend)
            }
            Frame::Filter {
                f,
                items,
                next,
                mut out,
                pos,
            } => {
                if v.is_truthy() {
                    out.push(items.items()[next - 1].clone());
                }
                let frame = Frame::Filter {
                    f,
                    items,
                    next,
                    out,
                    pos,
                };
                self.step_list(frame, stack, backend)
            }
            Frame::Fold {
                f,
                items,
                next,
                pos,
            } => match items.items().get(next) {
                None => Ok(Ctl::Return(v)),
                Some(item) => {
                    let item = item.clone();
                    stack.push(Frame::Fold {
                        f: f.clone(),
                        items,
                        next: next + 1,
                        pos,
                    });
                    self.apply(f, alloc::vec![v, item], pos, stack, backend)
                }
            },
        }
    }

    fn and_or(
        &mut self,
        form: List,
        next: usize,
        scope: Scope,
        is_and: bool,
        stack: &mut Vec<Frame>,
    ) -> Ctl {
        let n = form.len();
        if next >= n {
            return Ctl::Return(if is_and {
                Value::Bool(true)
            } else {
                Value::Nil
            });
        }
        let expr = form.items()[next].clone();
        let at = pos_of(&form, next, self.pos);
        if next + 1 < n {
            stack.push(Frame::AndOr {
                form,
                next: next + 1,
                scope: scope.clone(),
                is_and,
            });
        }
        Ctl::Eval(expr, at, scope)
    }

    fn cond_next(
        &mut self,
        clauses: List,
        index: usize,
        scope: Scope,
        pos: Pos,
        stack: &mut Vec<Frame>,
    ) -> Result<Ctl> {
        if index >= clauses.len() {
            return Ok(Ctl::Return(Value::Nil));
        }
        let clause = list_at(&clauses, index, "a cond clause", pos)?;
        let at = pos_of(&clauses, index, pos);
        let Some(test) = clause.items().first() else {
            return Err(shape("cond", "(cond (test body...)...)", at));
        };
        if matches!(test, Value::Symbol(s) if s.name() == "else") {
            return Ok(self.seq(clause.skip(1), scope, stack));
        }
        let test = test.clone();
        let test_at = pos_of(&clause, 0, at);
        stack.push(Frame::Cond {
            clauses,
            index,
            scope: scope.clone(),
            pos,
        });
        Ok(Ctl::Eval(test, test_at, scope))
    }

    fn let_next(
        &mut self,
        bindings: List,
        index: usize,
        body: List,
        env: Rc<Env>,
        pos: Pos,
        stack: &mut Vec<Frame>,
    ) -> Result<Ctl> {
        if index >= bindings.len() {
            return Ok(self.seq(body, Some(env), stack));
        }
        let binding = list_at(&bindings, index, "a let binding", pos)?;
        let at = pos_of(&bindings, index, pos);
        if binding.len() != 2 {
            return Err(shape("let", "(let ((name value)...) body...)", at));
        }
        symbol_at(&binding, 0, "a let binding's name", at)?;
        let expr = binding.items()[1].clone();
        let expr_at = pos_of(&binding, 1, at);
        let scope = Some(env.clone());
        stack.push(Frame::Let {
            bindings,
            index,
            body,
            env,
            pos,
        });
        Ok(Ctl::Eval(expr, expr_at, scope))
    }

    fn for_next(
        &mut self,
        form: List,
        var: Symbol,
        mut iter: Iter,
        scope: Scope,
        pos: Pos,
        stack: &mut Vec<Frame>,
    ) -> Result<Ctl> {
        let item = match &mut iter {
            Iter::List(l, i) => {
                let item = l.items().get(*i).cloned();
                *i += 1;
                item
            }
            Iter::Count(i, n) => {
                let item = (*i < *n).then_some(Value::Int(*i));
                *i += 1;
                item
            }
        };
        let Some(item) = item else {
            return Ok(Ctl::Return(Value::Nil));
        };
        let env = Env::new(&self.meter, scope.clone(), alloc::vec![(var.clone(), item)])?;
        let body = form.skip(2);
        stack.push(Frame::For {
            form,
            var,
            iter,
            scope,
            pos,
        });
        Ok(self.seq(body, Some(env), stack))
    }

    fn make_lambda(
        &mut self,
        name: Option<Symbol>,
        params: &List,
        body: List,
        scope: Scope,
        pos: Pos,
    ) -> Result<Value> {
        let mut names: Vec<Symbol> = Vec::new();
        let mut rest = None;
        let mut i = 0;
        while i < params.len() {
            let p = symbol_at(params, i, "a parameter", pos)?;
            if p.name() == "&rest" {
                if i + 2 != params.len() {
                    return Err(Error::eval("`&rest` must be followed by exactly one name")
                        .at(pos_of(params, i, pos)));
                }
                rest = Some(symbol_at(params, i + 1, "the &rest parameter", pos)?);
                break;
            }
            if names.contains(&p) {
                return Err(
                    Error::eval(format!("parameter `{}` appears twice", p.name()))
                        .at(pos_of(params, i, pos)),
                );
            }
            names.push(p);
            i += 1;
        }
        let charge = self
            .meter
            .charge(LAMBDA_BYTES + names.len() * 16)
            .map_err(|e| e.at(pos))?;
        Ok(Value::Lambda(Rc::new(Lambda {
            name: core::cell::RefCell::new(name),
            params: names,
            rest,
            body,
            env: scope,
            _charge: charge,
        })))
    }

    fn special(
        &mut self,
        name: &str,
        form: List,
        pos: Pos,
        scope: Scope,
        stack: &mut Vec<Frame>,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        let n = form.len();
        let item = |i: usize| form.items()[i].clone();
        match name {
            "quote" => {
                if n != 2 {
                    return Err(shape("quote", "(quote x)", pos));
                }
                Ok(Ctl::Return(item(1)))
            }
            "if" => {
                if !(3..=4).contains(&n) {
                    return Err(shape("if", "(if test then [else])", pos));
                }
                let (test, at) = (item(1), pos_of(&form, 1, pos));
                stack.push(Frame::If {
                    form,
                    scope: scope.clone(),
                    pos,
                });
                Ok(Ctl::Eval(test, at, scope))
            }
            "cond" => self.cond_next(form.skip(1), 0, scope, pos, stack),
            "let" => {
                if n < 2 {
                    return Err(shape("let", "(let ((name value)...) body...)", pos));
                }
                let bindings = match &form.items()[1] {
                    Value::Nil => List::new(&self.meter, Vec::new(), 1)?,
                    _ => list_at(&form, 1, "the bindings of `let`", pos)?,
                };
                let env = Env::new(&self.meter, scope, Vec::new()).map_err(|e| e.at(pos))?;
                self.let_next(bindings, 0, form.skip(2), env, pos, stack)
            }
            "define" => self.define(form, pos, scope, stack),
            "set!" => {
                if n != 3 {
                    return Err(shape("set!", "(set! name value)", pos));
                }
                let name = symbol_at(&form, 1, "the name in `set!`", pos)?;
                let (expr, at) = (item(2), pos_of(&form, 2, pos));
                stack.push(Frame::Set {
                    name,
                    scope: scope.clone(),
                    pos,
                });
                Ok(Ctl::Eval(expr, at, scope))
            }
            "lambda" => {
                if n < 2 {
                    return Err(shape("lambda", "(lambda (param...) body...)", pos));
                }
                let params = match &form.items()[1] {
                    Value::Nil => List::new(&self.meter, Vec::new(), 1)?,
                    _ => list_at(&form, 1, "the parameters of `lambda`", pos)?,
                };
                let body = form.skip(2);
                self.make_lambda(None, &params, body, scope, pos)
                    .map(Ctl::Return)
            }
            "begin" => Ok(self.seq(form.skip(1), scope, stack)),
            "and" | "or" => Ok(self.and_or(form, 1, scope, name == "and", stack)),
            "while" => {
                if n < 2 {
                    return Err(shape("while", "(while test body...)", pos));
                }
                let (test, at) = (item(1), pos_of(&form, 1, pos));
                stack.push(Frame::While {
                    form,
                    scope: scope.clone(),
                    testing: true,
                    pos,
                });
                Ok(Ctl::Eval(test, at, scope))
            }
            "for" => {
                let syntax = "(for (name list-or-count) body...)";
                let spec = list_at(&form, 1, "the `(name list)` of `for`", pos)
                    .map_err(|_| shape("for", syntax, pos))?;
                if spec.len() != 2 {
                    return Err(shape("for", syntax, pos_of(&form, 1, pos)));
                }
                let var = symbol_at(&spec, 0, "the loop variable", pos)?;
                let (expr, at) = (spec.items()[1].clone(), pos_of(&spec, 1, pos));
                stack.push(Frame::ForInit {
                    form,
                    var,
                    scope: scope.clone(),
                    pos,
                });
                Ok(Ctl::Eval(expr, at, scope))
            }
            "try" => self.try_(form, pos, scope, stack),
            "txn" => self.txn(form, pos, scope, stack.len(), backend),
            "help" => {
                let text = match form.items().get(1) {
                    None => help_overview(),
                    Some(Value::Symbol(s)) => self.help_text(s.name()),
                    Some(Value::Str(s)) => self.help_text(&String::from_utf8_lossy(s.as_bytes())),
                    Some(_) => return Err(shape("help", "(help [name])", pos)),
                };
                backend.print(text.as_bytes()).map_err(|e| e.at(pos))?;
                Ok(Ctl::Return(Value::Nil))
            }
            _ => Err(Error::eval(format!("unknown special form `{name}`")).at(pos)),
        }
    }

    fn help_text(&self, name: &str) -> String {
        if let Some(text) = help_for(name) {
            return text;
        }
        match self.globals.get(name) {
            Some(Value::Lambda(f)) => {
                let mut params: Vec<&str> = f.params.iter().map(Symbol::name).collect();
                if let Some(rest) = &f.rest {
                    params.push("&rest");
                    params.push(rest.name());
                }
                format!(
                    "({name} {})\n  a function defined in this session\n",
                    params.join(" ")
                )
            }
            Some(v) => format!("{name}\n  a variable: {}\n", describe(v)),
            None => format!("no help for `{name}`: (help) lists what there is\n"),
        }
    }

    fn define(
        &mut self,
        form: List,
        pos: Pos,
        scope: Scope,
        stack: &mut Vec<Frame>,
    ) -> Result<Ctl> {
        let syntax = "(define name value) or (define (name param...) body...)";
        match form.items().get(1) {
            Some(Value::List(sig)) => {
                let name = symbol_at(sig, 0, "the function name", pos)?;
                let params = sig.skip(1);
                let lambda = self.make_lambda(
                    Some(name.clone()),
                    &params,
                    form.skip(2),
                    scope.clone(),
                    pos,
                )?;
                self.define_in(&scope, name, lambda)?;
                Ok(Ctl::Return(Value::Nil))
            }
            Some(Value::Symbol(_)) if form.len() == 3 => {
                let name = symbol_at(&form, 1, "the name", pos)?;
                let (expr, at) = (form.items()[2].clone(), pos_of(&form, 2, pos));
                stack.push(Frame::Define {
                    name,
                    scope: scope.clone(),
                });
                Ok(Ctl::Eval(expr, at, scope))
            }
            _ => Err(shape("define", syntax, pos)),
        }
    }

    fn try_(&mut self, form: List, pos: Pos, scope: Scope, stack: &mut Vec<Frame>) -> Result<Ctl> {
        let parts = form.skip(1);
        let is_catch =
            |l: &List| matches!(l.items().first(), Some(Value::Symbol(s)) if s.name() == "catch");
        let catch = match parts.items().last() {
            Some(Value::List(l)) if is_catch(l) => Some(l.clone()),
            _ => None,
        };
        let (body, var, handler) = match catch {
            Some(clause) => {
                let at = clause.pos().unwrap_or(pos);
                if clause.len() < 2 {
                    return Err(shape("catch", "(catch name handler...)", at));
                }
                let var = symbol_at(&clause, 1, "the name in `catch`", at)?;
                let body_len = parts.len() - 1;
                let body = List::new(
                    &self.meter,
                    parts.items()[..body_len].to_vec(),
                    self.limits.nesting_max,
                )?;
                (body, Some(var), clause.skip(2))
            }
            None => {
                let empty = List::new(&self.meter, Vec::new(), 1)?;
                (parts, None, empty)
            }
        };
        stack.push(Frame::Try {
            var,
            handler,
            scope: scope.clone(),
        });
        Ok(self.seq(body, scope, stack))
    }

    fn txn(
        &mut self,
        form: List,
        pos: Pos,
        scope: Scope,
        outer_depth: usize,
        backend: &mut dyn Backend,
    ) -> Result<Ctl> {
        if self.in_txn {
            return Err(Error::eval("`txn` cannot nest inside another `txn`").at(pos));
        }
        let body = form.skip(1);
        let depth_base = self.depth_base;
        self.in_txn = true;
        // The transaction's body runs on a stack of its own: count the one it interrupts.
        self.depth_base = depth_base + outer_depth + 1;
        let result = backend.transaction(&mut |txn_backend: &mut dyn Backend| {
            let mut stack = Vec::new();
            let start = self.seq(body.clone(), scope.clone(), &mut stack);
            self.run(start, &mut stack, txn_backend)
        });
        self.in_txn = false;
        self.depth_base = depth_base;
        result.map(Ctl::Return).map_err(|e| e.at(pos))
    }
}

impl Drop for Interpreter {
    fn drop(&mut self) {
        // Global functions may hold environments that hold them back: drop iteratively.
        let pending = core::mem::take(&mut self.globals)
            .into_values()
            .map(crate::value::Node::Value)
            .collect();
        crate::value::teardown(pending);
    }
}
