//! The reader: text to values, with the line and column of every form and of every error.
//!
//! It is a hand-written scanner with an explicit stack of open lists (no recursion), so input
//! like a hundred thousand `(` ends in a clean nesting-limit error, not a stack overflow.
//!
//! Syntax: `;` comments to the end of the line; `(` `)` lists; `'x` for `(quote x)`; strings in
//! `"` with the escapes `\n \r \t \0 \\ \" \xNN`; integers (`42`, `-7`, `0x1f`); floats (`1.5`,
//! `-2e3`); `nil`, `true`, `false`; everything else is a symbol. `[ ] { }` are reserved.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, ErrorKind, Limit, Pos, Result};
use crate::meter::Meter;
use crate::value::{List, SrcPos, Value};

/// A top-level form and where it starts.
#[derive(Debug, Clone)]
pub struct Form {
    /// The form.
    pub value: Value,
    /// Where it starts.
    pub pos: Pos,
}

/// Reads every form of `text`, whose first character is at `start`. Lists are charged on
/// `meter`; lists may nest at most `nesting_max` deep.
pub fn read_all(text: &str, start: Pos, meter: &Meter, nesting_max: usize) -> Result<Vec<Form>> {
    Reader {
        cur: Cursor {
            text,
            at: 0,
            pos: start,
        },
        meter,
        nesting_max,
        open: Vec::new(),
        forms: Vec::new(),
    }
    .run()
}

/// Whether `text` ends inside a list, a string or after a quote (so that more lines could
/// complete it). Other syntax errors count as complete: evaluating shows them.
pub fn is_incomplete(text: &str) -> bool {
    let meter = Meter::new(0);
    matches!(read_all(text, Pos::START, &meter, usize::MAX), Err(e) if e.is_incomplete())
}

struct Cursor<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    /// Position of the next character.
    pos: Pos,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.pos.line = self.pos.line.saturating_add(1);
            self.pos.col = 1;
        } else {
            self.pos.col = self.pos.col.saturating_add(1);
        }
        Some(c)
    }
}

/// An open list, or a quote waiting for its form.
enum Open {
    List {
        pos: Pos,
        items: Vec<Value>,
        positions: Vec<Pos>,
    },
    Quote {
        pos: Pos,
    },
}

struct Reader<'a, 'm> {
    cur: Cursor<'a>,
    meter: &'m Meter,
    nesting_max: usize,
    open: Vec<Open>,
    forms: Vec<Form>,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | ';' | '\'')
}

impl Reader<'_, '_> {
    fn run(mut self) -> Result<Vec<Form>> {
        while let Some(c) = self.cur.peek() {
            let pos = self.cur.pos;
            match c {
                c if c.is_whitespace() => {
                    self.cur.bump();
                }
                ';' => {
                    while let Some(c) = self.cur.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '(' => {
                    self.cur.bump();
                    self.push_open(
                        pos,
                        Open::List {
                            pos,
                            items: Vec::new(),
                            positions: Vec::new(),
                        },
                    )?;
                }
                '\'' => {
                    self.cur.bump();
                    self.push_open(pos, Open::Quote { pos })?;
                }
                ')' => {
                    self.cur.bump();
                    self.close(pos)?;
                }
                '"' => {
                    let value = self.string()?;
                    self.finish(value, pos)?;
                }
                '[' | ']' | '{' | '}' => {
                    return Err(Error::syntax(
                        pos,
                        format!("unexpected `{c}`: lists are written with ( and )"),
                    ));
                }
                _ => {
                    let value = self.atom()?;
                    self.finish(value, pos)?;
                }
            }
        }
        match self.open.last() {
            None => Ok(self.forms),
            Some(Open::List { pos, .. }) => Err(incomplete(*pos, "unclosed `(`: expected `)`")),
            Some(Open::Quote { pos }) => Err(incomplete(*pos, "nothing follows the quote `'`")),
        }
    }

    fn push_open(&mut self, pos: Pos, open: Open) -> Result<()> {
        if self.open.len() >= self.nesting_max {
            let max = self.nesting_max;
            return Err(
                Error::limit(Limit::Nesting, format!("lists nested deeper than {max}")).at(pos),
            );
        }
        self.open.push(open);
        Ok(())
    }

    fn close(&mut self, pos: Pos) -> Result<()> {
        match self.open.pop() {
            None => Err(Error::syntax(pos, "unexpected `)` with no open list")),
            Some(Open::Quote { pos: quote }) => Err(Error::syntax(
                quote,
                "nothing follows the quote `'` before `)`",
            )),
            Some(Open::List {
                pos: open,
                items,
                positions,
            }) => {
                let src = SrcPos {
                    list: open,
                    items: positions,
                };
                let list = List::with_src(self.meter, items, self.nesting_max, Some(src))
                    .map_err(|e| e.at(open))?;
                self.finish(Value::List(list), open)
            }
        }
    }

    /// A form is complete: wrap it in pending quotes, then add it to the open list or emit it.
    fn finish(&mut self, mut value: Value, mut pos: Pos) -> Result<()> {
        loop {
            match self.open.last_mut() {
                None => {
                    self.forms.push(Form { value, pos });
                    return Ok(());
                }
                Some(Open::List {
                    items, positions, ..
                }) => {
                    items.push(value);
                    positions.push(pos);
                    return Ok(());
                }
                Some(Open::Quote { pos: quote }) => {
                    let quote = *quote;
                    self.open.pop();
                    let src = SrcPos {
                        list: quote,
                        items: alloc::vec![quote, pos],
                    };
                    let items = alloc::vec![Value::symbol("quote"), value];
                    let list = List::with_src(self.meter, items, self.nesting_max, Some(src))
                        .map_err(|e| e.at(quote))?;
                    value = Value::List(list);
                    pos = quote;
                }
            }
        }
    }

    fn string(&mut self) -> Result<Value> {
        let start = self.cur.pos;
        self.cur.bump();
        let mut bytes = Vec::new();
        loop {
            let pos = self.cur.pos;
            let Some(c) = self.cur.bump() else {
                return Err(incomplete(start, "unterminated string: expected `\"`"));
            };
            match c {
                '"' => break,
                '\\' => self.escape(pos, &mut bytes)?,
                c => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Value::string(self.meter, bytes).map_err(|e| e.at(start))
    }

    fn escape(&mut self, pos: Pos, bytes: &mut Vec<u8>) -> Result<()> {
        let Some(c) = self.cur.bump() else {
            return Err(incomplete(pos, "unterminated string: expected `\"`"));
        };
        let byte = match c {
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            '0' => 0,
            '\\' => b'\\',
            '"' => b'"',
            'x' => {
                let hi = self.cur.bump().and_then(|c| c.to_digit(16));
                let lo = self.cur.bump().and_then(|c| c.to_digit(16));
                match (hi, lo) {
                    // Two hex digits are at most 255.
                    (Some(hi), Some(lo)) => (hi * 16 + lo) as u8,
                    _ => {
                        return Err(Error::syntax(
                            pos,
                            "invalid escape: `\\x` needs two hex digits",
                        ))
                    }
                }
            }
            other => {
                return Err(Error::syntax(
                    pos,
                    format!("invalid escape `\\{other}` in string"),
                ))
            }
        };
        bytes.push(byte);
        Ok(())
    }

    fn atom(&mut self) -> Result<Value> {
        let pos = self.cur.pos;
        let start = self.cur.at;
        while let Some(c) = self.cur.peek() {
            if is_delimiter(c) || matches!(c, '[' | ']' | '{' | '}') {
                break;
            }
            self.cur.bump();
        }
        let token = &self.cur.text[start..self.cur.at];
        parse_atom(token).map_err(|message| Error::syntax(pos, message))
    }
}

fn incomplete(pos: Pos, message: &str) -> Error {
    Error::new(ErrorKind::Incomplete, message).at(pos)
}

/// Whether a token is meant as a number: it starts with a digit, or a sign or `.` then a digit.
fn looks_numeric(token: &str) -> bool {
    let b = token.as_bytes();
    let first_digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    match b.first() {
        Some(b'0'..=b'9') => true,
        Some(b'+' | b'-') => first_digit(1) || (b.get(1) == Some(&b'.') && first_digit(2)),
        Some(b'.') => first_digit(1),
        _ => false,
    }
}

fn parse_atom(token: &str) -> core::result::Result<Value, String> {
    match token {
        "nil" => return Ok(Value::Nil),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if !looks_numeric(token) {
        return Ok(Value::symbol(token));
    }
    let (negative, digits) = match token.as_bytes()[0] {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    let hex = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"));
    if let Some(hex) = hex {
        return parse_int(hex, 16, negative, token);
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return parse_int(digits, 10, negative, token);
    }
    let float_chars = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match token.parse::<f64>() {
        Ok(x) if float_chars && x.is_finite() => Ok(Value::Float(x)),
        Ok(_) if float_chars => Err(format!("float literal `{token}` out of range")),
        _ => Err(format!("invalid number `{token}`")),
    }
}

fn parse_int(
    digits: &str,
    radix: u32,
    negative: bool,
    token: &str,
) -> core::result::Result<Value, String> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!("invalid number `{token}`"));
    }
    // Parse the magnitude as u64 so that i64::MIN reads.
    let magnitude = u64::from_str_radix(digits, radix).map_err(|_| out_of_range(token))?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.map(Value::Int).ok_or_else(|| out_of_range(token))
}

fn out_of_range(token: &str) -> String {
    format!("integer literal `{token}` out of range (64-bit)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::equal;
    use alloc::string::ToString;

    fn read(text: &str) -> Result<Vec<Form>> {
        read_all(text, Pos::START, &Meter::new(0), 1000)
    }

    fn one(text: &str) -> Value {
        let forms = read(text).unwrap();
        assert_eq!(forms.len(), 1, "{text}");
        forms.into_iter().next().unwrap().value
    }

    fn err(text: &str) -> Error {
        read(text).unwrap_err()
    }

    #[test]
    fn reads_atoms() {
        assert!(matches!(one("nil"), Value::Nil));
        assert!(matches!(one("true"), Value::Bool(true)));
        assert!(matches!(one("false"), Value::Bool(false)));
        assert!(matches!(one("42"), Value::Int(42)));
        assert!(matches!(one("-7"), Value::Int(-7)));
        assert!(matches!(one("+7"), Value::Int(7)));
        assert!(matches!(one("0x1f"), Value::Int(31)));
        assert!(matches!(one("-0x10"), Value::Int(-16)));
        assert!(matches!(one("-9223372036854775808"), Value::Int(i64::MIN)));
        assert!(matches!(one("1.5"), Value::Float(x) if x == 1.5));
        assert!(matches!(one("-2e3"), Value::Float(x) if x == -2000.0));
        assert!(matches!(one(".5"), Value::Float(x) if x == 0.5));
        assert!(matches!(one("foo-bar?"), Value::Symbol(s) if s.name() == "foo-bar?"));
        assert!(matches!(one("+"), Value::Symbol(s) if s.name() == "+"));
        assert!(matches!(one("-"), Value::Symbol(s) if s.name() == "-"));
        assert!(matches!(one("->x"), Value::Symbol(s) if s.name() == "->x"));
        assert!(matches!(one("é"), Value::Symbol(s) if s.name() == "é"));
    }

    #[test]
    fn reads_strings_with_escapes() {
        let v = one(r#""a\"b\\c\n\t\r\0\x41\xff é""#);
        assert_eq!(v.as_bytes().unwrap(), b"a\"b\\c\n\t\r\0A\xff \xc3\xa9");
        let v = one("\"two\nlines\"");
        assert_eq!(v.as_bytes().unwrap(), b"two\nlines");
    }

    #[test]
    fn reads_lists_quotes_and_comments() {
        let v = one("(a (b 1) \"s\" ; comment\n 'c)");
        assert_eq!(v.repr(), "(a (b 1) \"s\" (quote c))");
        let forms = read("1 ; one\n(two)\n'three").unwrap();
        assert_eq!(forms.len(), 3);
        assert_eq!(forms[1].pos, Pos::new(2, 1));
        assert_eq!(forms[2].pos, Pos::new(3, 1));
        assert_eq!(forms[2].value.repr(), "(quote three)");
        assert_eq!(one("''x").repr(), "(quote (quote x))");
        assert_eq!(one("()").repr(), "()");
    }

    #[test]
    fn records_item_positions() {
        let v = one("(f\n  x   \"y\")");
        let list = v.as_list().unwrap();
        assert_eq!(list.pos(), Some(Pos::new(1, 1)));
        assert_eq!(list.item_pos(0), Some(Pos::new(1, 2)));
        assert_eq!(list.item_pos(1), Some(Pos::new(2, 3)));
        assert_eq!(list.item_pos(2), Some(Pos::new(2, 7)));
        assert_eq!(list.skip(1).item_pos(0), Some(Pos::new(2, 3)));
    }

    #[test]
    fn repr_reads_back() {
        let text = r#"(1 -2 3.5 "q\"\n\x01\xfe" sym nil true false (nested ()) é)"#;
        let v = one(text);
        let again = one(&v.repr());
        assert!(equal(&v, &again));
    }

    #[test]
    fn columns_count_characters() {
        let e = err("\"éé\" )");
        assert_eq!(e.pos, Some(Pos::new(1, 6)));
    }

    #[test]
    fn starts_at_the_given_position() {
        let forms = read_all("\n (x)", Pos::new(10, 1), &Meter::new(0), 10).unwrap();
        assert_eq!(forms[0].pos, Pos::new(11, 2));
    }

    #[test]
    fn every_syntax_error_has_its_position() {
        let cases: &[(&str, ErrorKind, Pos, &str)] = &[
            (")", ErrorKind::Syntax, Pos::new(1, 1), "unexpected `)`"),
            ("(a))", ErrorKind::Syntax, Pos::new(1, 4), "unexpected `)`"),
            (
                "(a\n  (b",
                ErrorKind::Incomplete,
                Pos::new(2, 3),
                "unclosed `(`",
            ),
            (
                "(a '",
                ErrorKind::Incomplete,
                Pos::new(1, 4),
                "nothing follows",
            ),
            (
                "(a ')",
                ErrorKind::Syntax,
                Pos::new(1, 4),
                "nothing follows",
            ),
            (
                "x \"abc",
                ErrorKind::Incomplete,
                Pos::new(1, 3),
                "unterminated string",
            ),
            (
                "\"a\\",
                ErrorKind::Incomplete,
                Pos::new(1, 3),
                "unterminated string",
            ),
            (
                "\"a\\q\"",
                ErrorKind::Syntax,
                Pos::new(1, 3),
                "invalid escape `\\q`",
            ),
            (
                "\"\\x4\"",
                ErrorKind::Syntax,
                Pos::new(1, 2),
                "two hex digits",
            ),
            (
                "\"\\xzz\"",
                ErrorKind::Syntax,
                Pos::new(1, 2),
                "two hex digits",
            ),
            (
                " 9223372036854775808",
                ErrorKind::Syntax,
                Pos::new(1, 2),
                "out of range",
            ),
            (
                "-9223372036854775809",
                ErrorKind::Syntax,
                Pos::new(1, 1),
                "out of range",
            ),
            (
                "0xfffffffffffffffff",
                ErrorKind::Syntax,
                Pos::new(1, 1),
                "out of range",
            ),
            (
                "(1 2\n  1.2.3)",
                ErrorKind::Syntax,
                Pos::new(2, 3),
                "invalid number `1.2.3`",
            ),
            ("12abc", ErrorKind::Syntax, Pos::new(1, 1), "invalid number"),
            ("0xg", ErrorKind::Syntax, Pos::new(1, 1), "invalid number"),
            ("1e999", ErrorKind::Syntax, Pos::new(1, 1), "float literal"),
            (
                "(a [b])",
                ErrorKind::Syntax,
                Pos::new(1, 4),
                "unexpected `[`",
            ),
            ("{", ErrorKind::Syntax, Pos::new(1, 1), "unexpected `{`"),
        ];
        for (text, kind, pos, message) in cases {
            let e = err(text);
            assert_eq!(e.kind, *kind, "{text}: {e}");
            assert_eq!(e.pos, Some(*pos), "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
            assert!(e.to_string().starts_with(&alloc::format!("{pos}: ")), "{e}");
        }
    }

    #[test]
    fn deep_nesting_is_a_clean_limit_error() {
        let text: String = core::iter::repeat_n('(', 100_000).collect();
        let e = err(&text);
        assert_eq!(e.limit_hit(), Some(Limit::Nesting));
        assert_eq!(e.pos, Some(Pos::new(1, 1001)));
        let text: String = core::iter::repeat_n('\'', 100_000).collect();
        assert_eq!(err(&text).limit_hit(), Some(Limit::Nesting));
        // Exactly at the cap reads.
        let mut text: String = core::iter::repeat_n('(', 1000).collect();
        text.extend(core::iter::repeat_n(')', 1000));
        assert_eq!(one(&text).depth(), 1000);
    }

    #[test]
    fn reading_is_charged_to_the_memory_budget() {
        let meter = Meter::new(1000);
        let text = "(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
                    21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40)";
        let e = read_all(text, Pos::START, &meter, 100).unwrap_err();
        assert_eq!(e.limit_hit(), Some(Limit::Memory));
        assert_eq!(e.pos, Some(Pos::START));
        assert_eq!(meter.used(), 0, "everything read is given back");
    }

    #[test]
    fn incomplete_input_is_detected() {
        assert!(is_incomplete("(a (b"));
        assert!(is_incomplete("\"abc"));
        assert!(is_incomplete("'"));
        assert!(!is_incomplete("(a)"));
        assert!(!is_incomplete(")"));
        assert!(!is_incomplete(""));
    }
}
