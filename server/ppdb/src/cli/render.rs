//! Showing a result: `raw` for pipes, `table` for people, `json` for programs.
//!
//! - raw: a string is its bytes; `nil` an empty line; a list one item per line, an item that
//!   is itself a list as its items separated by tabs (so `(scan)` is `key<TAB>value` lines).
//! - table: values as the language writes them; a list numbered `1) ...`; a list of lists as
//!   aligned columns.
//! - json: one JSON value per result; a string that is not UTF-8 becomes
//!   `{"base64": "..."}`.

use std::fmt::Write as _;

use ppdb_lisp::{write_quoted, Value};
use ppdb_memcache::base64;

use super::OutputFormat;

/// A format with `auto` settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Raw,
    Table,
    Json,
}

impl Format {
    /// `auto` is `table` on a terminal and `raw` otherwise.
    pub(crate) fn resolve(format: OutputFormat, terminal: bool) -> Format {
        match format {
            OutputFormat::Auto if terminal => Format::Table,
            OutputFormat::Auto | OutputFormat::Raw => Format::Raw,
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
        }
    }
}

/// `value` in `format`, ending in a newline.
pub(crate) fn render(value: &Value, format: Format) -> Vec<u8> {
    match format {
        Format::Raw => raw(value),
        Format::Table => table(value).into_bytes(),
        Format::Json => {
            let mut out = serde_json::to_vec(&json(value)).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}

fn raw_item(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => {}
        Value::List(row) => {
            for (i, cell) in row.items().iter().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                cell.display_bytes(out);
            }
        }
        other => other.display_bytes(out),
    }
}

fn raw(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        Value::List(list) => {
            for item in list.items() {
                raw_item(item, &mut out);
                out.push(b'\n');
            }
        }
        other => {
            raw_item(other, &mut out);
            out.push(b'\n');
        }
    }
    out
}

/// A table cell: strings without quotes (control characters and bytes that are not UTF-8
/// escaped), everything else as written.
fn cell(value: &Value) -> String {
    match value {
        Value::Str(s) => {
            let mut quoted = String::new();
            write_quoted(s.as_bytes(), &mut quoted);
            let inner = &quoted[1..quoted.len() - 1];
            inner.replace("\\\"", "\"")
        }
        other => other.repr(),
    }
}

fn table(value: &Value) -> String {
    let Value::List(list) = value else {
        return format!("{}\n", value.repr());
    };
    let items = list.items();
    if items.is_empty() {
        return "(empty list)\n".to_string();
    }
    let rows: Option<Vec<Vec<String>>> = items
        .iter()
        .map(|item| match item {
            Value::List(row) if !row.is_empty() => Some(row.items().iter().map(cell).collect()),
            _ => None,
        })
        .collect();
    let mut out = String::new();
    match rows {
        Some(rows) => {
            let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
            let mut widths = vec![0; columns];
            for row in &rows {
                for (i, c) in row.iter().enumerate() {
                    widths[i] = widths[i].max(c.chars().count());
                }
            }
            for row in &rows {
                let mut line = String::new();
                for (i, c) in row.iter().enumerate() {
                    if i + 1 < row.len() {
                        let pad = widths[i] - c.chars().count();
                        let _ = write!(line, "{c}{:pad$}  ", "");
                    } else {
                        line.push_str(c);
                    }
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        None => {
            let width = items.len().to_string().len();
            for (i, item) in items.iter().enumerate() {
                let _ = writeln!(out, "{:>width$}) {}", i + 1, item.repr());
            }
        }
    }
    out
}

fn json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        Value::Str(s) => match std::str::from_utf8(s.as_bytes()) {
            Ok(text) => J::String(text.to_string()),
            Err(_) => {
                let mut encoded = Vec::new();
                base64::encode_into(s.as_bytes(), &mut encoded);
                let mut object = serde_json::Map::new();
                object.insert(
                    "base64".to_string(),
                    J::String(String::from_utf8_lossy(&encoded).into_owned()),
                );
                J::Object(object)
            }
        },
        Value::List(l) => J::Array(l.items().iter().map(json).collect()),
        other => J::String(other.repr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppdb_lisp::{Backend, Entry, Interpreter, Limits, Store, StoreOutcome};

    struct NoDb;

    impl Backend for NoDb {
        fn now_ms(&self) -> u64 {
            0
        }
        fn print(&mut self, _: &[u8]) -> ppdb_lisp::Result<()> {
            Ok(())
        }
        fn get(&mut self, _: &[u8]) -> ppdb_lisp::Result<Option<Entry>> {
            Ok(None)
        }
        fn store(&mut self, _: Store<'_>) -> ppdb_lisp::Result<StoreOutcome> {
            Ok(StoreOutcome::Stored)
        }
        fn delete(&mut self, _: &[u8]) -> ppdb_lisp::Result<bool> {
            Ok(false)
        }
        fn incr(&mut self, _: &[u8], _: u64, _: bool) -> ppdb_lisp::Result<Option<u64>> {
            Ok(None)
        }
        fn touch(&mut self, _: &[u8], _: i64) -> ppdb_lisp::Result<bool> {
            Ok(false)
        }
        fn flush(&mut self, _: u32) -> ppdb_lisp::Result<()> {
            Ok(())
        }
        fn stats(&mut self, _: Option<&str>) -> ppdb_lisp::Result<Vec<(String, String)>> {
            Ok(Vec::new())
        }
        fn keys(&mut self, _: &[u8], _: usize) -> ppdb_lisp::Result<Vec<Vec<u8>>> {
            Ok(Vec::new())
        }
    }

    fn show(text: &str, format: Format) -> String {
        let v = Interpreter::new(Limits::default())
            .eval_str(text, &mut NoDb)
            .unwrap();
        String::from_utf8_lossy(&render(&v, format)).into_owned()
    }

    #[test]
    fn raw_is_for_pipes() {
        assert_eq!(show("\"text\"", Format::Raw), "text\n");
        assert_eq!(show("nil", Format::Raw), "\n");
        assert_eq!(show("42", Format::Raw), "42\n");
        assert_eq!(show("'(\"a\" 1)", Format::Raw), "a\n1\n");
        assert_eq!(
            show("'((\"k1\" \"v1\") (\"k2\" 2))", Format::Raw),
            "k1\tv1\nk2\t2\n"
        );
        assert_eq!(show("'()", Format::Raw), "");
    }

    #[test]
    fn table_is_for_people() {
        assert_eq!(show("\"text\"", Format::Table), "\"text\"\n");
        assert_eq!(show("nil", Format::Table), "nil\n");
        assert_eq!(show("'()", Format::Table), "(empty list)\n");
        let numbered = show("'(a \"b\" (c))", Format::Table);
        assert_eq!(numbered, "1) a\n2) \"b\"\n3) (c)\n");
        let rows = show("'((\"key\" \"a\\\"b\") (\"longer-key\" 2))", Format::Table);
        assert_eq!(rows, "key         a\"b\nlonger-key  2\n");
    }

    #[test]
    fn json_is_for_programs() {
        assert_eq!(
            show("'(1 2.5 \"s\" nil true x)", Format::Json),
            "[1,2.5,\"s\",null,true,\"x\"]\n"
        );
        assert_eq!(
            show("\"\\xff\\x00\"", Format::Json),
            "{\"base64\":\"/wA=\"}\n"
        );
    }
}
