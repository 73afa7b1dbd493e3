//! Feeding bytes to a parser in chunks, and rendering what comes out.

use ppdb_memcache::{Error, Limits, Parsed, Parser};

/// Parses `input` delivered in pieces that end at `cuts` (sorted byte offsets), and renders
/// each result as the transcripts' `=` lines do. Also checks the parser's promises: `consumed`
/// never exceeds the input, and `Incomplete` never leaves more than `buffer_len_max` bytes.
pub(crate) fn parse_in_chunks(limits: Limits, input: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut parser = Parser::new(limits);
    let mut buffer: Vec<u8> = Vec::new();
    let mut results = Vec::new();
    let mut delivered = 0;
    let ends = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < input.len())
        .chain([input.len()]);
    for end in ends {
        buffer.extend_from_slice(&input[delivered..end]);
        delivered = end;
        loop {
            match parser.parse(&buffer) {
                Ok(Parsed::Complete { request, consumed }) => {
                    assert!(
                        consumed > 0 && consumed <= buffer.len(),
                        "consumed {consumed}"
                    );
                    results.push(request.to_string());
                    buffer.drain(..consumed);
                }
                Ok(Parsed::Incomplete { consumed }) => {
                    assert!(consumed <= buffer.len(), "consumed {consumed}");
                    buffer.drain(..consumed);
                    assert!(
                        buffer.len() < limits.buffer_len_max(),
                        "buffered {}",
                        buffer.len()
                    );
                    break;
                }
                Err(Error::LineTooLong { max, .. }) => {
                    results.push(format!("fatal line too long (max {max})"));
                    return results;
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }
    if !buffer.is_empty() || parser.swallowing() > 0 {
        results.push("incomplete".to_string());
    }
    results
}

/// Parses `input` whole.
pub(crate) fn parse_whole(limits: Limits, input: &[u8]) -> Vec<String> {
    parse_in_chunks(limits, input, &[])
}
