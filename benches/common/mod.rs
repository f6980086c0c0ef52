//! What the benchmarks share: their input sets (benches/gen/gen.py presets,
//! or benches/real's objects) and the host's stolen CPU time.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub struct Input {
    pub objs: Vec<String>,
    pub relocations: u64,
    pub name: String,
    /// Where the set is (gen.py's sets also have `main.o` there).
    pub dir: PathBuf,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Prepares input set `preset` if absent (gen.py and prepare.sh do nothing
/// when it is up to date): a gen.py preset, or `real`.
pub fn input(preset: &str) -> Input {
    let preset = preset.to_string();
    let dir = root().join("target/bench-inputs").join(&preset);
    let status = if preset == "real" {
        Command::new("bash")
            .arg(root().join("benches/real/prepare.sh"))
            .arg(&dir)
            .status()
            .expect("running benches/real/prepare.sh")
    } else {
        Command::new("python3")
            .arg(root().join("benches/gen/gen.py"))
            .args(["--preset", &preset, "--quiet", "--out"])
            .arg(&dir)
            .status()
            .expect("running python3 benches/gen/gen.py")
    };
    assert!(status.success(), "preparing the {preset} input set failed");

    let list = std::fs::read_to_string(dir.join("objs.txt")).expect("objs.txt");
    let objs = list
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| dir.join(l).to_string_lossy().into_owned())
        .collect();
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    Input {
        objs,
        relocations: json_u64(&manifest, "relocations"),
        name: preset,
        dir,
    }
}

/// `"key": 123` from gen.py's flat manifest (no JSON crate needed).
fn json_u64(text: &str, key: &str) -> u64 {
    let pat = format!("\"{key}\":");
    let at = text.find(&pat).map(|i| i + pat.len()).unwrap_or(text.len());
    text[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// CPU time the hypervisor took from this machine so far, all CPUs together
/// (the `steal` column of /proc/stat), when the kernel reports it.
pub fn steal_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let steal: f64 = cpu.split_whitespace().nth(7)?.parse().ok()?;
    Some(steal / 100.0) // USER_HZ is 100 on Linux
}
