//! The command line: `osilab demo`, `osilab send`, `osilab dissect`, `osilab simulate` and
//! `osilab live` (`cli::live`, with the `live` feature). Parsing is clap's; each command builds a
//! [`StackConfig`](crate::stack::StackConfig), runs an [`Exchange`](crate::stack::Exchange) and
//! renders it. Errors are one line on stderr and exit code 2.

mod app;
mod args;
mod demo;
mod dissect;
#[cfg(feature = "live")]
mod live;
mod send;
mod simulate;

pub use args::{Cli, Command, DissectArgs, LiveArgs, SendArgs, SimulateArgs};

use crate::error::Error;
use clap::Parser;
use std::io::Write;

/// Run the command line with these arguments (the first is the program name); returns the exit
/// code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line, like every other error: clap's first line ("error: …") without the usage
            // block; `--help` says the rest.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            eprintln!("osilab: error: {first} (see osilab --help)");
            return 2;
        }
        Err(e) => {
            // --help and --version.
            let _ = e.print();
            return 0;
        }
    };
    let result = match cli.command {
        Command::Send(a) => send::send(&a),
        Command::Demo(a) => demo::demo(&a),
        Command::Simulate(a) => simulate::simulate(&a),
        // Prints as it goes (replies, frames, a body) and has its own exit code, like the tools it
        // stands in for.
        Command::Live(a) => return live_command(&a),
        // Streams to stdout frame by frame: a capture may be many gigabytes.
        Command::Dissect(a) => {
            return match dissect::dissect(&a) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("osilab: error: {e}");
                    2
                }
            }
        }
    };
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`osilab demo | head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            0
        }
        Err(e) => {
            eprintln!("osilab: error: {e}");
            2
        }
    }
}

#[cfg(feature = "live")]
fn live_command(a: &LiveArgs) -> i32 {
    match live::live(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("osilab: error: {e}");
            2
        }
    }
}

#[cfg(not(feature = "live"))]
fn live_command(_: &LiveArgs) -> i32 {
    eprintln!("osilab: error: this osilab was built without live mode (build it with the `live` feature, the default)");
    2
}

/// Wrap an error for the one-line report.
pub(crate) fn config_err(msg: impl Into<String>) -> Error {
    Error::config(None, msg)
}
