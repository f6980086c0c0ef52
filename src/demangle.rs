//! Symbol names as messages show them. GNU ld demangles C++ names in its
//! messages by default (`--demangle`; `--no-demangle` shows them raw), and
//! so does rivet, for Rust's names too: `undefined symbol: ns::A::bar()`
//! rather than `_ZN2ns1A3barEv`.

/// `name` for a message: demangled when `demangle` is set and it is a C++
/// (Itanium ABI) or Rust (legacy or v0) name, else as it is. A symbol
/// version (`@V`, `@@V`) stays after the demangled name.
pub fn pretty(name: &[u8], demangle: bool) -> String {
    let raw = || String::from_utf8_lossy(name).into_owned();
    if !demangle {
        return raw();
    }
    let (base, version) = match memchr::memchr(b'@', name) {
        Some(at) if at > 0 => name.split_at(at),
        _ => (name, &b""[..]),
    };
    let Ok(base_str) = std::str::from_utf8(base) else {
        return raw();
    };
    let version = String::from_utf8_lossy(version);
    if let Ok(d) = rustc_demangle::try_demangle(base_str) {
        // `{:#}` leaves out the hash legacy Rust names end with.
        return format!("{d:#}{version}");
    }
    if let Some(d) = cxx(base) {
        return format!("{d}{version}");
    }
    raw()
}

/// A C++ name demangled as c++filt (libiberty) prints it. cpp_demangle
/// writes the special names its own way (`{vtable(X)}`), which version
/// scripts' `extern "C++"` patterns (`"vtable for X"`) would not match.
fn cxx(name: &[u8]) -> Option<String> {
    if !name.starts_with(b"_Z") {
        return None;
    }
    let d = cpp_demangle::Symbol::new(name).ok()?.demangle().ok()?;
    let inner = |prefix: &str| {
        d.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(")}"))
            .map(str::to_string)
    };
    if let Some(x) = inner("{vtable(") {
        return Some(format!("vtable for {x}"));
    }
    if let Some(x) = inner("{vtt(") {
        return Some(format!("VTT for {x}"));
    }
    if let Some(args) = inner("{virtual override thunk(") {
        // The offsets come first, each in braces; the function last.
        let target = args.rsplit_once("}, ").map_or(args.as_str(), |(_, t)| t);
        let kind = match &name[..4] {
            b"_ZTh" => "non-virtual thunk to",
            b"_ZTv" => "virtual thunk to",
            _ => "covariant return thunk to",
        };
        return Some(format!("{kind} {target}"));
    }
    Some(d)
}

/// The demangled form version scripts' `extern "C++"` patterns are
/// matched against (as c++filt prints it: `ns::f(char const*)`); `None`
/// for a name that is not a C++ one.
pub fn demangle_for_script(name: &[u8]) -> Option<String> {
    cxx(name)
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn cpp_rust_and_c_names() {
        assert_eq!(pretty(b"_ZN2ns1A3barEv", true), "ns::A::bar()");
        assert_eq!(pretty(b"_Z3fooi", true), "foo(int)");
        assert_eq!(pretty(b"_Z3fooi", false), "_Z3fooi");
        assert_eq!(pretty(b"main", true), "main");
        assert_eq!(pretty(b"_Z", true), "_Z");
        assert_eq!(
            pretty(b"_ZN3std2io5stdio6_print17h0123456789abcdefE", true),
            "std::io::stdio::_print"
        );
        assert_eq!(pretty(b"_RNvCs1234_7mycrate3foo", true), "mycrate::foo");
        assert_eq!(pretty(b"_Z3fooi@@VERS_1", true), "foo(int)@@VERS_1");
    }

    #[test]
    fn special_names_as_cxxfilt_prints_them() {
        use super::demangle_for_script as d;
        let cases = [
            ("_ZTVN2ns1SE", "vtable for ns::S"),
            ("_ZTTN2ns1VE", "VTT for ns::V"),
            ("_ZThn8_N2ns1D1gEv", "non-virtual thunk to ns::D::g()"),
            ("_ZTv0_n24_N2ns1D1gEv", "virtual thunk to ns::D::g()"),
            (
                "_ZTcv0_n12_v0_n16_N1B1fEv",
                "covariant return thunk to B::f()",
            ),
            ("_ZTIN2ns1SE", "typeinfo for ns::S"),
            ("_ZTSN2ns1SE", "typeinfo name for ns::S"),
            ("_ZGVZ1fvE1x", "guard variable for f()::x"),
        ];
        for (mangled, want) in cases {
            assert_eq!(d(mangled.as_bytes()).as_deref(), Some(want), "{mangled}");
        }
        assert_eq!(d(b"main"), None);
    }
}
