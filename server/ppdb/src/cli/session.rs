//! A session: an interpreter, a backend (remote or embedded), an output format and the Ctrl-C
//! flag; and the entry points of `cli`, `run` and `shell`, which pick how input arrives (REPL,
//! piped stdin, `-e`, a file).

use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ppdb_lisp::{Backend, Error, Form, Interpreter, Value};

use super::batch;
use super::connect::Target;
use super::embedded::{Embedded, Location};
use super::output::Output;
use super::remote::Remote;
use super::render::{render, Format};
use super::repl;
use super::signals::Signals;
use super::{
    exit_code_for, CliArgs, EvalArgs, RunArgs, ShellArgs, EXIT_CONNECT, EXIT_ERROR, EXIT_OK,
    EXIT_USAGE,
};

/// A backend that also owns the output.
pub(crate) trait Host: Backend {
    /// Where results and printed text go.
    fn output(&mut self) -> &mut Output;
}

impl Host for Remote {
    fn output(&mut self) -> &mut Output {
        &mut self.out
    }
}

impl Host for Embedded {
    fn output(&mut self) -> &mut Output {
        &mut self.out
    }
}

/// Forms whose value is not shown: they are done for their effect.
const STATEMENTS: &[&str] = &["define", "set!", "print", "println", "help", "for", "while"];

/// Whether `form` is a statement (its result is not echoed).
fn is_statement(form: &Form) -> bool {
    match &form.value {
        Value::List(l) => matches!(
            l.items().first(),
            Some(Value::Symbol(s)) if STATEMENTS.contains(&s.name())
        ),
        _ => false,
    }
}

/// An interpreter bound to a backend.
pub(crate) struct Session<H: Host> {
    pub(crate) lisp: Interpreter,
    pub(crate) host: H,
    pub(crate) format: Format,
    pub(crate) signals: Signals,
}

impl<H: Host> Session<H> {
    fn new(host: H, eval: &EvalArgs, signals: Signals) -> Session<H> {
        let mut lisp = Interpreter::new(eval.limits.limits());
        lisp.set_interrupt(signals.interrupt.clone());
        Session {
            lisp,
            host,
            format: Format::resolve(eval.output, io::stdout().is_terminal()),
            signals,
        }
    }

    /// Starts a new input: a fresh budget and a lowered interrupt flag.
    pub(crate) fn begin_input(&mut self) {
        self.lisp.reset_budget();
        self.signals.clear();
    }

    /// Evaluates `form` and, if `echo` and it is not a statement, shows its value.
    pub(crate) fn eval_form(&mut self, form: &Form, echo: bool) -> Result<(), Error> {
        let value = self.lisp.eval(form, &mut self.host)?;
        if echo && !is_statement(form) {
            let bytes = render(&value, self.format);
            self.host.output().write(&bytes)?;
        }
        Ok(())
    }

    /// Flushes the output.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        self.host.output().flush()
    }

    /// Reports `e` on standard error (`origin` names the input, e.g. a file) and returns the
    /// exit code it maps to. A broken output pipe is reported by nothing.
    pub(crate) fn report(&mut self, origin: Option<&str>, e: &Error) -> u8 {
        let _ = self.host.output().flush();
        if self.host.output().broken_pipe() {
            return EXIT_OK;
        }
        match (origin, e.pos) {
            (Some(origin), Some(_)) => eprintln!("{origin}:{e}"),
            (Some(origin), None) => eprintln!("{origin}: {e}"),
            (None, _) => eprintln!("{e}"),
        }
        exit_code_for(e)
    }

    /// Whether the reader of the output went away.
    pub(crate) fn output_gone(&mut self) -> bool {
        self.host.output().broken_pipe()
    }
}

/// Connects to the server the options name, or says why not (and the exit code).
fn connect(args: &super::ConnectArgs, signals: &Signals) -> Result<Remote, u8> {
    let target = Target::from_args(args).map_err(|e| {
        eprintln!("ppdb: {e}");
        EXIT_USAGE
    })?;
    let timeout = Duration::from_secs(args.net_timeout.max(1));
    Remote::connect(
        target.clone(),
        timeout,
        signals.interrupt.clone(),
        Output::stdout(),
    )
    .map_err(|e| {
        eprintln!("ppdb: cannot connect to {target}: {e}");
        EXIT_CONNECT
    })
}

/// The history file: the option, else `$PPDB_HISTORY` (empty: none), else `~/.ppdb_history`.
fn history_file(option: Option<&Path>, disabled: bool) -> Option<PathBuf> {
    if disabled {
        return None;
    }
    if let Some(path) = option {
        return Some(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("PPDB_HISTORY") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    Some(PathBuf::from(home).join(".ppdb_history"))
}

/// Reads interactively, runs `-e` expressions, or reads piped standard input.
fn interact<H: Host>(
    session: &mut Session<H>,
    exprs: &[String],
    prompt: &str,
    history: Option<PathBuf>,
) -> u8 {
    if io::stdin().is_terminal() && exprs.is_empty() {
        // Installs the Ctrl-C handlers once its line editor exists.
        return repl::run(session, prompt, history);
    }
    session.signals.install();
    if !exprs.is_empty() {
        return batch::exprs(session, exprs);
    }
    batch::stream(session, io::stdin().lock(), "<stdin>")
}

/// `ppdb cli`.
pub(crate) fn cli(args: &CliArgs) -> u8 {
    let signals = Signals::new();
    let remote = match connect(&args.connect, &signals) {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let prompt = format!("{}> ", remote.target());
    let history = history_file(args.history.as_deref(), args.no_history);
    let mut session = Session::new(remote, &args.eval, signals);
    interact(&mut session, &args.exprs, &prompt, history)
}

/// Reads a script: a file, or standard input for `-`.
fn read_script(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    let result = if path == Path::new("-") {
        io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    result.map_err(|e| format!("ppdb: cannot read {}: {e}", path.display()))?;
    Ok(text)
}

/// `ppdb run FILE`.
pub(crate) fn run(args: &RunArgs) -> u8 {
    let text = match read_script(&args.file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let origin = args.file.display().to_string();
    let signals = Signals::installed();
    if args.memory {
        let host = match Embedded::open(&Location::Memory, Output::stdout()) {
            Ok(host) => host,
            Err(e) => {
                eprintln!("ppdb: {e}");
                return EXIT_ERROR;
            }
        };
        return batch::script(&mut Session::new(host, &args.eval, signals), &text, &origin);
    }
    match connect(&args.connect, &signals) {
        Ok(remote) => batch::script(
            &mut Session::new(remote, &args.eval, signals),
            &text,
            &origin,
        ),
        Err(code) => code,
    }
}

/// `ppdb shell`.
pub(crate) fn shell(args: &ShellArgs) -> u8 {
    let location = match &args.data_dir {
        Some(dir) => Location::Dir(dir),
        None => Location::Memory,
    };
    let host = match Embedded::open(&location, Output::stdout()) {
        Ok(host) => host,
        Err(e) => {
            eprintln!("ppdb: {e}");
            return EXIT_ERROR;
        }
    };
    let prompt = match &location {
        Location::Memory => "memory> ".to_string(),
        Location::Dir(dir) => format!("{}> ", dir.display()),
    };
    let history = history_file(args.history.as_deref(), args.no_history);
    let mut session = Session::new(host, &args.eval, Signals::new());
    interact(&mut session, &args.exprs, &prompt, history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppdb_lisp::{Limits, Pos};

    #[test]
    fn statements_are_not_echoed() {
        let lisp = Interpreter::new(Limits::default());
        let forms = lisp
            .read(
                "(define x 1) (println x) (+ 1 2) x (for (i 2) i)",
                Pos::START,
            )
            .unwrap();
        let statements: Vec<bool> = forms.iter().map(is_statement).collect();
        assert_eq!(statements, [true, true, false, false, true]);
    }

    #[test]
    fn history_file_precedence() {
        let explicit = Path::new("/tmp/h");
        assert_eq!(
            history_file(Some(explicit), false),
            Some(explicit.to_path_buf())
        );
        assert_eq!(history_file(Some(explicit), true), None);
    }
}
