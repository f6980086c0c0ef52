//! Errors reported to the user: one line naming the file and the problem.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&printable(&self.0))
    }
}

/// `text` safe to print on a terminal: control characters other than
/// newline and tab (which names in a corrupt input may hold: an escape
/// sequence, a carriage return) become `\xNN` or `\u{N}`. (Invalid UTF-8
/// in names is already U+FFFD, from `String::from_utf8_lossy`.)
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if bad(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl std::error::Error for Error {}

impl From<crate::partition::FillError> for Error {
    fn from(e: crate::partition::FillError) -> Error {
        Error(e.to_string())
    }
}

/// Returns early with a formatted [`Error`].
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::error::Error(format!($($arg)*))) };
}

/// Builds a formatted [`Error`].
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::error::Error(format!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::printable("a.o: bad\n"), "a.o: bad\n");
        assert_eq!(
            super::printable("sym \x1b[31mred\r\u{85}"),
            "sym \\x1b[31mred\\x0d\\x85"
        );
    }
}
