//! Every transcript exchange: the parse results (`=` lines) and, with the model engine, the
//! reply bytes (`<` lines) and the connection closing (`! close`).

mod common;

use common::feed::parse_whole;
use common::model::Model;
use common::transcript;
use common::{limits, serve};
use ppdb_memcache::transcript::check_reply;

#[test]
fn transcripts_parse_and_reply_as_written() {
    let mut failures = Vec::new();
    let mut exchanges = 0;
    for file in transcript::all() {
        let mut model = Model::new(limits());
        for exchange in &file.exchanges {
            exchanges += 1;
            let at = format!("{}:{}", file.path.display(), exchange.line);
            if !exchange.parsed.is_empty() {
                let parsed = parse_whole(limits(), &exchange.input);
                if parsed != exchange.parsed {
                    failures.push(format!(
                        "{at}: parsed\n  {}\nexpected\n  {}",
                        parsed.join("\n  "),
                        exchange.parsed.join("\n  ")
                    ));
                }
            }
            if exchange.has_tag("parse-only") {
                continue;
            }
            let (reply, closed) = serve(&mut model, limits(), &exchange.input);
            if let Err(e) = check_reply(&exchange.reply, &reply) {
                failures.push(format!("{at}: {e}"));
            }
            if closed != exchange.close {
                failures.push(format!(
                    "{at}: closed {closed}, expected {}",
                    exchange.close
                ));
            }
        }
    }
    assert!(exchanges > 100, "only {exchanges} exchanges");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
