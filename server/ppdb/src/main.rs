//! The `ppdb` binary: parses the command line and dispatches to a subcommand.

use clap::{Parser, Subcommand};

/// PPDB: a portable key-value database that speaks the memcached protocol.
#[derive(Debug, Parser)]
#[command(name = "ppdb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

fn main() {
    let cli = Cli::parse();
    match cli.command {}
}
