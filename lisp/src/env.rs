//! Environments: the variables of a function call, `let` or loop iteration, chained to the
//! environment they were created in. The chain ends in the interpreter's globals (a map held
//! by the interpreter, not by any environment), so top-level functions hold no reference
//! cycle through the globals.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::error::Result;
use crate::meter::{Charge, Meter};
use crate::value::{teardown, Node, Symbol, Value};

/// Bytes charged for an environment, and for each variable in it.
const ENV_BYTES: usize = 64;
const VAR_BYTES: usize = 48;

/// One frame of variables.
#[derive(Debug)]
pub(crate) struct Env {
    vars: RefCell<Vec<(Symbol, Value)>>,
    parent: Option<Rc<Env>>,
    charge: RefCell<Charge>,
}

impl Env {
    /// An environment with `vars`, inside `parent` (`None`: directly inside the globals).
    pub(crate) fn new(
        meter: &Meter,
        parent: Option<Rc<Env>>,
        vars: Vec<(Symbol, Value)>,
    ) -> Result<Rc<Env>> {
        let charge = meter.charge(ENV_BYTES + VAR_BYTES * vars.len())?;
        Ok(Rc::new(Env {
            vars: RefCell::new(vars),
            parent,
            charge: RefCell::new(charge),
        }))
    }

    /// Looks `name` up in this frame and its parents (not the globals).
    pub(crate) fn lookup(env: &Rc<Env>, name: &Symbol) -> Option<Value> {
        let mut cur = Some(env);
        while let Some(e) = cur {
            if let Some((_, v)) = e.vars.borrow().iter().rev().find(|(k, _)| k == name) {
                return Some(v.clone());
            }
            cur = e.parent.as_ref();
        }
        None
    }

    /// Defines `name` in this frame (replacing an existing binding of the frame).
    pub(crate) fn define(&self, name: Symbol, value: Value) -> Result<()> {
        let mut vars = self.vars.borrow_mut();
        if let Some(slot) = vars.iter_mut().find(|(k, _)| *k == name) {
            let old = core::mem::replace(&mut slot.1, value);
            drop(vars);
            drop(old);
            return Ok(());
        }
        self.charge.borrow_mut().grow(VAR_BYTES)?;
        vars.push((name, value));
        Ok(())
    }

    /// Sets an existing binding in this frame or a parent; returns whether it found one.
    pub(crate) fn set(env: &Rc<Env>, name: &Symbol, value: Value) -> bool {
        let mut cur = Some(env);
        while let Some(e) = cur {
            let mut vars = e.vars.borrow_mut();
            if let Some(slot) = vars.iter_mut().rev().find(|(k, _)| k == name) {
                let old = core::mem::replace(&mut slot.1, value);
                drop(vars);
                drop(old);
                return true;
            }
            drop(vars);
            cur = e.parent.as_ref();
        }
        false
    }

    /// Moves the variables and the parent onto `pending` (for [`teardown`]).
    pub(crate) fn take_children(&mut self, pending: &mut Vec<Node>) {
        for (_, v) in self.vars.get_mut().drain(..) {
            pending.push(Node::Value(v));
        }
        if let Some(parent) = self.parent.take() {
            pending.push(Node::Env(parent));
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.take_children(&mut pending);
        if !pending.is_empty() {
            teardown(pending);
        }
    }
}
