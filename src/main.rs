use std::process::ExitCode;

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
    match rivet::driver::link_args(&args) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
