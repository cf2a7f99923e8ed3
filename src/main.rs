//! The `osilab` binary: a thin wrapper around [`osilab::cli::run`].

fn main() {
    std::process::exit(osilab::cli::run(std::env::args_os()));
}
