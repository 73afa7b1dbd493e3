//! The `ppdb` binary: parses the command line and dispatches to a subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// PPDB: a portable key-value database that speaks the memcached protocol.
#[derive(Debug, Parser)]
#[command(name = "ppdb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate memcached load against a server and report throughput and latency.
    Bench(ppdb::bench::BenchArgs),
    /// Serve the memcached protocol (in memory, on 127.0.0.1:11211 by default).
    Server(Box<ppdb::server::ServerArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => ppdb::bench::main(&args),
        Command::Server(args) => ppdb::server::main(&args),
    }
}
