//! Feeds arbitrary bytes to the parser whole and in pieces, and checks that it never panics,
//! never consumes more than it was given, never buffers more than `Limits::buffer_len_max`,
//! and parses every split exactly like the whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppdb_memcache::{Limits, Parsed, Parser};

/// Parses `input` delivered in pieces ending at `cuts`; renders every result.
fn parse(limits: Limits, input: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut parser = Parser::new(limits);
    let mut buffer = Vec::new();
    let mut results = Vec::new();
    let mut delivered = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        if end <= delivered || end > input.len() {
            continue;
        }
        buffer.extend_from_slice(&input[delivered..end]);
        delivered = end;
        loop {
            match parser.parse(&buffer) {
                Ok(Parsed::Complete { request, consumed }) => {
                    assert!(consumed > 0 && consumed <= buffer.len());
                    let mut reply = Vec::new();
                    if let ppdb_memcache::Request::Rejected(r) = &request {
                        r.write_to(&mut reply);
                    }
                    results.push(format!("{request} {reply:?}"));
                    buffer.drain(..consumed);
                }
                Ok(Parsed::Incomplete { consumed }) => {
                    assert!(consumed <= buffer.len());
                    buffer.drain(..consumed);
                    assert!(buffer.len() < limits.buffer_len_max());
                    break;
                }
                Err(_) => {
                    results.push("fatal".to_string());
                    return results;
                }
            }
        }
    }
    results.push(format!(
        "left {} swallowing {}",
        buffer.len(),
        parser.swallowing()
    ));
    results
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let limits = if selector & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            key_len_max: 16,
            item_size_max: 256,
            line_len_max: 64,
            multiget_line_len_max: 128,
            tokens_max: 24,
        }
    };
    let whole = parse(limits, input, &[]);
    // Split points derived from the input itself: a two-way split, a three-way split, and
    // one-byte pieces for short inputs.
    let len = input.len();
    if len > 1 {
        let a = usize::from(selector >> 1) % len;
        let b = (a + len / 3 + 1) % len;
        let mut three = [a, b];
        three.sort_unstable();
        assert_eq!(parse(limits, input, &[a]), whole);
        assert_eq!(parse(limits, input, &three), whole);
        if len <= 512 {
            let every: Vec<usize> = (1..len).collect();
            assert_eq!(parse(limits, input, &every), whole);
        }
    }
});
