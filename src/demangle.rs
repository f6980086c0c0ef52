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
    if base.starts_with(b"_Z") {
        if let Some(d) = cpp_demangle::Symbol::new(base)
            .ok()
            .and_then(|s| s.demangle().ok())
        {
            return format!("{d}{version}");
        }
    }
    raw()
}

/// The demangled form version scripts' `extern "C++"` patterns are
/// matched against (as c++filt prints it: `ns::f(char const*)`); `None`
/// for a name that is not a C++ one.
pub fn demangle_for_script(name: &[u8]) -> Option<String> {
    if !name.starts_with(b"_Z") {
        return None;
    }
    let sym = cpp_demangle::Symbol::new(name).ok()?;
    sym.demangle().ok()
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
}
