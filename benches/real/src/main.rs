// Touches each dependency so the crate is a plausible program; the benchmark
// only uses the dependencies' object files.
fn main() {
    let re = regex::Regex::new(r"^(\w+)=(\d+)$").unwrap();
    let v: serde_json::Value = serde_json::json!({ "ok": re.is_match("a=1") });
    println!("{v}");
    let _ = criterion::Criterion::default();
}
