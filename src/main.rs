use std::process::ExitCode;

/// A failed allocation is an error (a message, the file being written
/// removed, status 1), not an abort: see `rivet::oom`.
#[global_allocator]
static GLOBAL: rivet::oom::Allocator = rivet::oom::Allocator;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if rivet::run::is_run(&argv) {
        // Returns only when the command could not be started.
        let Err(e) = rivet::run::run(&argv);
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    let args = match rivet::args::Args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if args.print_help {
        print!("{}", rivet::args::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.print_version {
        println!(
            "rivet {} (compatible with GNU ld)",
            env!("CARGO_PKG_VERSION")
        );
        if args.version_only {
            return ExitCode::SUCCESS;
        }
    }
    rivet::driver::exit_after_link();
    // A panic is a bug in rivet: said so, with the link it happened in, and
    // the link fails as any other (status 1, the file being written
    // removed as the stack unwinds).
    let output = args.output.display().to_string();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("rivet: internal error (a bug in rivet), linking {output}: {info}");
    }));
    match std::panic::catch_unwind(|| rivet::driver::link_args(&args)) {
        Ok(Ok(_)) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(1),
    }
}
