//! The `ppdb` binary: parses the command line and dispatches to a subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The system allocator behind a cache of freed blocks by size class (see `ppdb::alloc`).
#[global_allocator]
static ALLOCATOR: ppdb::alloc::ClassCache = ppdb::alloc::ClassCache;

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
    /// Talk to a server in the PPDB language (REPL, batch from stdin, or -e EXPR).
    Cli(ppdb::cli::CliArgs),
    /// Run a script file against a server.
    Run(ppdb::cli::RunArgs),
    /// The PPDB language on the embedded engine, in-process.
    Shell(ppdb::cli::ShellArgs),
    /// Write every item of a server as JSON lines.
    Dump(ppdb::cli::DumpArgs),
    /// Store the items of a dump file on a server.
    Load(ppdb::cli::LoadArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => ppdb::bench::main(&args),
        Command::Server(args) => ppdb::server::main(&args),
        Command::Cli(args) => ppdb::cli::cli_main(&args),
        Command::Run(args) => ppdb::cli::run_main(&args),
        Command::Shell(args) => ppdb::cli::shell_main(&args),
        Command::Dump(args) => ppdb::cli::dump_main(&args),
        Command::Load(args) => ppdb::cli::load_main(&args),
    }
}
