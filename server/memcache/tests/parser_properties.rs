//! Properties of the parser on generated input: it never panics, never consumes more than it
//! was given, never asks to buffer more than `Limits::buffer_len_max`, and parses any split of
//! the input exactly as the whole.

mod common;

use common::feed::{parse_in_chunks, parse_whole};
use ppdb_memcache::{Limits, Parsed, Parser};
use proptest::prelude::*;

/// Small limits, so that long lines and large items come up often.
fn small_limits() -> Limits {
    Limits {
        key_len_max: 16,
        item_size_max: 128,
        line_len_max: 48,
        multiget_line_len_max: 96,
        tokens_max: 24,
    }
}

/// Pieces of protocol text that make generated input look like requests.
const PIECES: &[&str] = &[
    "set ",
    "add ",
    "cas ",
    "append ",
    "get ",
    "gets ",
    "gat ",
    "gats ",
    "delete ",
    "incr ",
    "decr ",
    "touch ",
    "flush_all",
    "version",
    "verbosity ",
    "stats",
    " detail on",
    "quit",
    "shutdown",
    "lru_crawler metadump all",
    "mg ",
    "ms ",
    "md ",
    "ma ",
    "mn",
    "me ",
    "k ",
    "key ",
    "YQ== ",
    "0 ",
    "1 ",
    "5 ",
    "-1 ",
    "100 ",
    "4294967297 ",
    "noreply",
    " v",
    " q",
    " k",
    " b",
    " T10",
    " N0",
    " C1",
    " MA",
    " ME",
    " Mx",
    " D5",
    " J7",
    " O123",
    " s",
    " t",
    " c",
    " f",
    " ",
    "   ",
    "\r\n",
    "\n",
    "\r",
    "\0",
    "\t",
    "xy",
    "hello",
    "\r\n\r\n",
];

fn protocolish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..8),
            1 => (1usize..200).prop_map(|n| vec![b'a'; n]),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

fn bytes(len_max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..len_max)
}

/// Input with sorted cut points.
fn with_cuts(
    input: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    input.prop_flat_map(|i| {
        let len = i.len();
        (Just(i), cuts(len))
    })
}

fn cuts(len: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=len.max(1), 0..8).prop_map(|mut c| {
        c.sort_unstable();
        c.dedup();
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(input in bytes(600)) {
        for limits in [small_limits(), Limits::default()] {
            let mut parser = Parser::new(limits);
            let mut at = 0;
            loop {
                match parser.parse(&input[at..]) {
                    Ok(Parsed::Complete { consumed, .. }) => {
                        prop_assert!(consumed > 0 && consumed <= input.len() - at);
                        at += consumed;
                    }
                    Ok(Parsed::Incomplete { consumed }) => {
                        prop_assert!(consumed <= input.len() - at);
                        prop_assert!(input.len() - at - consumed < limits.buffer_len_max());
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn protocolish_input_splits_like_the_whole((input, cuts) in with_cuts(protocolish())) {
        for limits in [small_limits(), Limits::default()] {
            prop_assert_eq!(parse_in_chunks(limits, &input, &cuts), parse_whole(limits, &input));
        }
    }

    #[test]
    fn arbitrary_input_splits_like_the_whole((input, cuts) in with_cuts(bytes(300))) {
        let limits = small_limits();
        prop_assert_eq!(parse_in_chunks(limits, &input, &cuts), parse_whole(limits, &input));
    }

    #[test]
    fn protocolish_input_parses_byte_by_byte_like_the_whole(input in protocolish()) {
        let all: Vec<usize> = (1..input.len()).collect();
        let limits = small_limits();
        prop_assert_eq!(parse_in_chunks(limits, &input, &all), parse_whole(limits, &input));
    }

    #[test]
    fn base64_round_trips(key in prop::collection::vec(any::<u8>(), 1..64)) {
        let mut encoded = Vec::new();
        ppdb_memcache::base64::encode_into(&key, &mut encoded);
        prop_assert_eq!(ppdb_memcache::base64::decode(&encoded), Some(key));
    }
}

/// A storage request whose data block arrives in pieces waits for all of it, and never needs
/// more than `buffer_len_max` bytes buffered.
#[test]
fn the_largest_item_fits_the_buffer_bound() {
    let limits = Limits::default();
    let len = 1_048_576 - 56 - 2 - 2;
    let mut input = format!("set k 0 0 {len}\r\n").into_bytes();
    input.extend(std::iter::repeat_n(b'v', len));
    input.extend_from_slice(b"\r\n");
    assert!(input.len() < limits.buffer_len_max());
    let mut parser = Parser::new(limits);
    for end in [1, 10, 100_000, input.len() - 1] {
        assert_eq!(
            parser.parse(&input[..end]).ok(),
            Some(Parsed::Incomplete { consumed: 0 })
        );
    }
    let parsed = parser.parse(&input);
    assert!(matches!(parsed, Ok(Parsed::Complete { consumed, .. }) if consumed == input.len()));
}
