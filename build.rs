//! Compiles `rivet -run`'s preload library (src/run/preload.c) to an object
//! that the rivet binary carries and links into a shared object itself when
//! `-run` is used. Needs a C compiler (`$CC`, else `cc`), as the tests do.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "src/run/preload.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("preload.o");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-c", "-fPIC", "-O2", "-fno-stack-protector", "-o"])
        .arg(&out)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("rivet's build needs a C compiler ({cc}): {e}"));
    assert!(status.success(), "{cc} failed to compile {src}");
}
