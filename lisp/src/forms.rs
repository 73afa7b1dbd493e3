//! The special forms' names and docs, and the text `(help)` prints.

use alloc::format;
use alloc::string::String;

use crate::builtins::{self, Group};

/// A special form: evaluated by rules of its own, not as a call.
#[derive(Debug, Clone, Copy)]
pub struct SpecialForm {
    /// Its name.
    pub name: &'static str,
    /// How it is written.
    pub syntax: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Every special form.
pub static SPECIAL_FORMS: &[SpecialForm] = &[
    SpecialForm {
        name: "quote",
        syntax: "(quote x) or 'x",
        doc: "x itself, unevaluated.",
    },
    SpecialForm {
        name: "if",
        syntax: "(if test then [else])",
        doc: "then if test is true (anything but nil and false), else else (nil if absent).",
    },
    SpecialForm {
        name: "cond",
        syntax: "(cond (test body...)... [(else body...)])",
        doc: "The body of the first clause whose test is true (the test's value if the body is \
              empty); nil if none.",
    },
    SpecialForm {
        name: "let",
        syntax: "(let ((name value)...) body...)",
        doc: "Binds the names one after the other (each value sees the names before it), then \
              evaluates the body.",
    },
    SpecialForm {
        name: "define",
        syntax: "(define name value) or (define (name param...) body...)",
        doc: "Defines a variable or a function in the current scope (globally at the top level).",
    },
    SpecialForm {
        name: "set!",
        syntax: "(set! name value)",
        doc: "Changes an existing variable.",
    },
    SpecialForm {
        name: "lambda",
        syntax: "(lambda (param... [&rest name]) body...)",
        doc: "A function; &rest collects the remaining arguments into a list.",
    },
    SpecialForm {
        name: "begin",
        syntax: "(begin body...)",
        doc: "Evaluates the forms in order; the value of the last.",
    },
    SpecialForm {
        name: "and",
        syntax: "(and x...)",
        doc: "The first false value, or the last value (true for none).",
    },
    SpecialForm {
        name: "or",
        syntax: "(or x...)",
        doc: "The first true value, or the last value (nil for none).",
    },
    SpecialForm {
        name: "while",
        syntax: "(while test body...)",
        doc: "Evaluates the body as long as test is true; nil.",
    },
    SpecialForm {
        name: "for",
        syntax: "(for (name list-or-count) body...)",
        doc: "Evaluates the body with name bound to each item of a list, or to 0, 1, ... \
              count-1; nil.",
    },
    SpecialForm {
        name: "try",
        syntax: "(try body... [(catch name handler...)])",
        doc: "The body's value; if it raises an error, the handler's, with name bound to the \
              error message (nil without a catch). Limits and interrupts are not caught.",
    },
    SpecialForm {
        name: "txn",
        syntax: "(txn body...)",
        doc: "Runs the body as one serializable transaction, retried on conflict (embedded mode \
              only: ppdb shell).",
    },
    SpecialForm {
        name: "help",
        syntax: "(help [name])",
        doc: "Lists what there is, or explains one name.",
    },
];

/// The special form called `name`.
pub fn special_form(name: &str) -> Option<&'static SpecialForm> {
    SPECIAL_FORMS.iter().find(|f| f.name == name)
}

/// The overview `(help)` prints.
pub fn help_overview() -> String {
    let mut out = String::from("special forms:\n  ");
    for (i, f) in SPECIAL_FORMS.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(f.name);
    }
    out.push('\n');
    for group in Group::ALL {
        out.push_str(group.title());
        out.push_str(":\n  ");
        let mut first = true;
        for b in builtins::all().filter(|b| b.group == group) {
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(b.name);
        }
        out.push('\n');
    }
    out.push_str(
        "(help name) explains one, e.g. (help set). \
         Values: nil true false 42 1.5 \"text\" 'symbol '(a list).\n",
    );
    out
}

/// What `(help name)` prints for a special form or a built-in, or `None`.
pub fn help_for(name: &str) -> Option<String> {
    if let Some(f) = special_form(name) {
        return Some(format!("{}\n  special form: {}\n", f.syntax, f.doc));
    }
    let b = builtins::find(name)?;
    let sep = if b.params.is_empty() { "" } else { " " };
    Some(format!("({}{sep}{})\n  {}\n", b.name, b.params, b.doc))
}
