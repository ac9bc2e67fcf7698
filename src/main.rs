//! `livesell`: the command line — the allocator, parsing, and one match that hands each command to `cli`.

mod cli;

use clap::Parser;

use cli::{Cli, Command};

// Decisions allocate many small strings across worker threads; mimalloc handles that far better
// than glibc's malloc (measured in bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps freed memory for reuse instead of handing it back to the OS after 10 ms, for a run
/// over files, which ends soon anyway: its state and tables grow throughout, and memory handed
/// back and taken again is zeroed by the kernel each time (measured: ~10x the page faults and
/// ~0.6 CPU-s of a 1M-event run). Long-lived runs (serve, Kafka) keep the default.
fn keep_freed_memory() {
    // mimalloc.h, v2 and v3 alike: `mi_option_purge_delay` is option 15; -1 never purges.
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // SAFETY: a plain setter of mimalloc's options, safe to call at any time from any thread.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() {
    let cli = Cli::parse();
    let done = match cli.command {
        Command::Run(args) => {
            if args.finite() {
                keep_freed_memory();
            }
            cli::run::run(args)
        }
        Command::Parse(args) => cli::run::parse(args),
        Command::Gen(args) => cli::generate::generate_show(args),
        Command::Demo(args) => cli::generate::demo(args),
        Command::Sql(args) => cli::sql::sql(args),
        Command::Report(args) => cli::sql::report(args),
        Command::ServeSql(args) => cli::sql::serve_sql(args),
        Command::Serve(args) => cli::serve::serve(args),
        Command::Push(args) => cli::push::push(args),
        Command::Convert(args) => cli::convert::convert(args),
        Command::PollYoutube(args) => cli::convert::poll_youtube(args),
        Command::Runsheet(args) => cli::convert::runsheet(args),
    };
    if let Err(e) = done {
        eprintln!("livesell: error: {e:#}");
        std::process::exit(1);
    }
}
