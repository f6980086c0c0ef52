//! The test programs in `tests/programs/`: their sources, per-source
//! compiler flags and the exit status each one ends with when built right.

use std::path::{Path, PathBuf};

/// Which driver links the program (and compiles a source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    C,
    Cxx,
}

impl Lang {
    pub fn driver(self) -> &'static str {
        match self {
            Lang::C => "gcc",
            Lang::Cxx => "g++",
        }
    }

    pub fn of_source(path: &Path) -> Lang {
        match path.extension().and_then(|e| e.to_str()) {
            Some("cpp" | "cc" | "cxx") => Lang::Cxx,
            _ => Lang::C,
        }
    }
}

/// One source file and the flags it is compiled with (besides `-c`).
pub struct Source {
    pub file: &'static str,
    pub flags: &'static [&'static str],
}

pub struct Program {
    pub name: &'static str,
    pub lang: Lang,
    pub sources: &'static [Source],
    /// Exit status of a correct build (the programs check themselves).
    pub expected_status: i32,
}

const fn src(file: &'static str) -> Source {
    Source { file, flags: &[] }
}

const fn src_with(file: &'static str, flags: &'static [&'static str]) -> Source {
    Source { file, flags }
}

pub const PROGRAMS: &[Program] = &[
    Program {
        name: "libc_basics",
        lang: Lang::C,
        sources: &[src("libc_basics.c")],
        expected_status: 7,
    },
    Program {
        name: "tls",
        lang: Lang::C,
        sources: &[
            src_with("tls_main.c", &["-pthread"]),
            src("tls_other.c"),
            src_with("tls_pic.c", &["-fPIC"]),
            src_with("tls_desc.c", &["-fPIC", "-mtls-dialect=gnu2"]),
        ],
        expected_status: 0,
    },
    Program {
        name: "ctors",
        lang: Lang::C,
        sources: &[src("ctors_main.c"), src("ctors_other.c")],
        expected_status: 0,
    },
    Program {
        name: "cxx_ctors",
        lang: Lang::Cxx,
        sources: &[src("cxx_ctors_main.cpp"), src("cxx_ctors_other.cpp")],
        expected_status: 0,
    },
    Program {
        name: "startstop",
        lang: Lang::C,
        sources: &[src("startstop_main.c"), src("startstop_other.c")],
        expected_status: 0,
    },
    Program {
        name: "weak",
        lang: Lang::C,
        sources: &[src("weak_main.c"), src("weak_other.c")],
        expected_status: 0,
    },
    Program {
        name: "common",
        lang: Lang::C,
        sources: &[
            src_with("common_main.c", &["-fcommon"]),
            src_with("common_other.c", &["-fcommon"]),
        ],
        expected_status: 0,
    },
    Program {
        name: "exceptions",
        lang: Lang::Cxx,
        sources: &[src("exc_main.cpp"), src("exc_thrower.cpp")],
        expected_status: 0,
    },
    Program {
        name: "comdat",
        lang: Lang::Cxx,
        sources: &[
            src("comdat_main.cpp"),
            src("comdat_a.cpp"),
            src("comdat_b.cpp"),
            src("comdat_c.cpp"),
        ],
        expected_status: 0,
    },
    Program {
        name: "multi",
        lang: Lang::C,
        sources: &[src("multi_main.c"), src("multi_ops.c"), src("multi_data.c")],
        expected_status: 0,
    },
    Program {
        name: "debug",
        lang: Lang::C,
        sources: &[
            src_with("debug_main.c", &["-g"]),
            src_with("debug_util.c", &["-g"]),
        ],
        expected_status: 0,
    },
    Program {
        name: "optimized",
        lang: Lang::C,
        sources: &[src_with(
            "optimized.c",
            &["-O2", "-ffunction-sections", "-fdata-sections"],
        )],
        expected_status: 0,
    },
    Program {
        name: "asm",
        lang: Lang::C,
        sources: &[src("asm_main.c"), src("asm_funcs.s")],
        expected_status: 0,
    },
];

/// The program called `name`.
pub fn program(name: &str) -> &'static Program {
    PROGRAMS
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no test program {name}"))
}

/// Absolute path of a file in `tests/programs/`.
pub fn source_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(file)
}
