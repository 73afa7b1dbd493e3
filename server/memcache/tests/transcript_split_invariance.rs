//! Every transcript exchange parses the same whole, split in two at every byte, and fed one
//! byte at a time; and each file's exchanges pipelined back to back parse in order.

mod common;

use common::feed::{parse_in_chunks, parse_whole};
use common::limits;
use common::transcript;

#[test]
fn every_two_way_split_parses_like_the_whole() {
    let mut checked = 0;
    for file in transcript::all() {
        for exchange in &file.exchanges {
            let input = &exchange.input;
            // Two-way splits of inputs over 64 KiB are sampled: every cut within 16 bytes of
            // either end or 3 bytes of a line feed, and every 262139th.
            let whole = parse_whole(limits(), input);
            let long = input.len() > 64 * 1024;
            let near_newline = |cut: usize| {
                input[cut.saturating_sub(3)..(cut + 3).min(input.len())].contains(&b'\n')
            };
            for cut in 1..input.len() {
                let near_edge = cut < 16 || input.len() - cut < 16 || near_newline(cut);
                if long && !near_edge && cut % 262_139 != 0 {
                    continue;
                }
                let split = parse_in_chunks(limits(), input, &[cut]);
                assert_eq!(
                    split,
                    whole,
                    "{}:{} split at {cut}",
                    file.path.display(),
                    exchange.line
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "only {checked} splits");
}

#[test]
fn one_byte_at_a_time_parses_like_the_whole() {
    for file in transcript::all() {
        for exchange in &file.exchanges {
            let input = &exchange.input;
            if input.len() > 300_000 {
                continue;
            }
            let cuts: Vec<usize> = (1..input.len()).collect();
            let bytewise = parse_in_chunks(limits(), input, &cuts);
            let whole = parse_whole(limits(), input);
            assert_eq!(bytewise, whole, "{}:{}", file.path.display(), exchange.line);
        }
    }
}

#[test]
fn pipelined_exchanges_parse_in_order() {
    for file in transcript::all() {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for exchange in &file.exchanges {
            let parsed = parse_whole(limits(), &exchange.input);
            // An exchange that ends cut short or closes the connection can only be last.
            let open_ended = parsed
                .last()
                .is_some_and(|p| p == "incomplete" || p.starts_with("fatal") || p == "quit");
            if open_ended {
                continue;
            }
            input.extend_from_slice(&exchange.input);
            expected.extend(parsed);
        }
        assert_eq!(
            parse_whole(limits(), &input),
            expected,
            "{}",
            file.path.display()
        );
        let cuts: Vec<usize> = (1..input.len()).step_by(7).collect();
        assert_eq!(
            parse_in_chunks(limits(), &input, &cuts),
            expected,
            "{}",
            file.path.display()
        );
    }
}
