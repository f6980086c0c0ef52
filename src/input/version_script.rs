//! Version scripts (`--version-script=FILE`), read as GNU ld 2.40 reads
//! them, and the question a shared-object link asks of them: which version
//! does this defined global get, or is it hidden?
//!
//! # Syntax
//!
//! A script is one anonymous node or any number of named ones, never both:
//!
//! ```text
//! { global: foo; bar*; local: *; };          # anonymous
//!
//! VERS_1.1 { global: foo1; local: old*; };   # named
//! VERS_1.2 { foo2; } VERS_1.1;               # no `global:`: the list is global;
//!                                            # VERS_1.2 inherits from VERS_1.1
//! VERS_2 {
//!   global:
//!     extern "C++" { "ns::f(int)"; ns::*; };  # patterns on demangled names
//!   local: *;
//! };
//! ```
//!
//! As GNU ld's grammar (`ldgram.y`, `ldlex.l`) has it:
//!
//! - A node is `{ LIST }` `;` or `NAME { LIST } DEPS ;` where `DEPS` is zero
//!   or more version names, each defined *earlier* in the script. A node
//!   body is empty, or `PATTERNS ;`, `global: PATTERNS ;`,
//!   `local: PATTERNS ;` or `global: PATTERNS ; local: PATTERNS ;` (in
//!   that order, each at most once: `local:` after global patterns needs
//!   an explicit `global:`). Patterns are separated by `;` and the
//!   list needs its final `;`; the `;` after the node's `}` is required.
//! - `extern "C++" { PATTERNS }` (also `"C"`; the language name is matched
//!   without regard to case) is a pattern of its own, so it is followed by
//!   `;` like one; inside it the last `;` is optional. Blocks nest.
//! - A version name is `[.$_a-zA-Z][._a-zA-Z0-9]*`. An unquoted pattern is
//!   `[*?.$_a-zA-Z[]!^\-\\]` followed by those characters, digits and `::`;
//!   anything else (`ns::f(int)`, `operator<`) must be quoted. `global`,
//!   `local` and `extern` are patterns too where no `:` or `"LANG"` follows.
//! - Comments are `/* ... */` and `#` to the end of the line.
//! - A character that can start no token (`@`, `(`, a digit starting a
//!   pattern, a `"` without its closing one) is ignored, with a warning,
//!   as GNU ld ignores it ("ignoring invalid character"): see
//!   [`VersionScript::warnings`].
//!
//! A quoted pattern is exact. An unquoted one is a glob (`*`, `?`, `[a-z]`,
//! `[!a]`/`[^a]`, `\` escaping the next character, as `fnmatch(3)` without
//! flags reads it) unless it holds no unescaped `*`, `?` or `[`: then it is
//! exact too, with its backslashes removed. C patterns are matched against
//! the symbol's name; C++ patterns against its demangled name as c++filt
//! prints it (libiberty's `DMGL_PARAMS | DMGL_ANSI`: `ns::f(char const*)`),
//! or against the name itself when it does not demangle.
//!
//! # Which pattern wins
//!
//! [`VersionScript::classify`] follows binutils' `bfd_find_version_for_sym`
//! with ld's `lang_vers_match`, so that every symbol gets the version GNU
//! ld gives it:
//!
//! 1. Exact patterns first. The first node, in script order, with an exact
//!    pattern naming the symbol decides: global if its `global:` list has
//!    one (even if its `local:` list has one too), local otherwise. Nothing
//!    else is looked at.
//! 2. Otherwise globs, over all nodes. `*` alone (in any language) is the
//!    weakest; other globs beat it. In order: a matching non-`*` glob in a
//!    `global:` list (the *last* such node in the script gives the version,
//!    not the most specific glob); else one in a `local:` list (hidden);
//!    else `global: *` (the last such node); else `local: *` (hidden).
//! 3. Nothing matches: [`Binding::Unlisted`]. GNU ld leaves such a symbol
//!    global, with the base version (index 1), when linking a shared
//!    object.
//!
//! So `local: foo;` hides `foo` against `global: f*;` in any node;
//! `global: foo_*;` beats `local: foo*;` (global globs beat local globs,
//! however specific); `local: foo*;` beats `global: *;`.
//!
//! # Errors
//!
//! Each names the script, line and column (1-based, in characters):
//! syntax errors, an unterminated comment, an unknown language,
//! a dependency on a version not defined before, a version defined twice,
//! an anonymous node combined with any other, and (as GNU ld's "duplicate
//! expression") the same pattern global in one node and local in an
//! earlier one or the other way round. `extern "Java"`, which GNU ld
//! matches against gcj-demangled names, is refused as unsupported.
//!
//! # Not done
//!
//! - Patterns naming a version (`"foo@VERS_1"`), which GNU ld uses to hide
//!   an unversioned definition when a `.symver` one exists, are plain
//!   exact patterns here.
//! - GNU ld drops a C exact pattern that directly follows a C++ exact
//!   pattern with the same text in one list (a quirk of its hash chains),
//!   so such a pattern escapes its "duplicate expression" check; rivet
//!   keeps it and checks it. Bindings are the same either way, since a
//!   C++ pattern also matches a name that does not demangle.

use crate::error::Result;
use crate::{bail, err};
use rustc_hash::FxHashMap;

/// A parsed version script.
#[derive(Debug, Clone)]
pub struct VersionScript {
    path: String,
    nodes: Vec<VersionNode>,
    warnings: Vec<String>,
    /// Exact C patterns: name → first node having it, and whether that node
    /// has it as global.
    exact_c: FxHashMap<Vec<u8>, ExactHit>,
    /// Exact C++ patterns, by demangled name.
    exact_cxx: FxHashMap<Vec<u8>, ExactHit>,
    /// The glob patterns, in script order: (node, in its `global:` list,
    /// index in that list). A script rustc writes lists thousands of exact
    /// names and one glob; only the globs are tried one by one.
    globs: Vec<(usize, bool, usize)>,
    /// Some pattern is C++ ([`VersionScript::has_cxx_patterns`]).
    has_cxx: bool,
}

#[derive(Debug, Clone, Copy)]
struct ExactHit {
    node: usize,
    global: bool,
}

/// One version node: `NAME { global: ...; local: ...; } DEPS;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNode {
    /// The version's name; `None` for the anonymous node.
    pub name: Option<String>,
    pub globals: Vec<Pattern>,
    pub locals: Vec<Pattern>,
    /// The versions this one inherits from, as written (each names an
    /// earlier node). GNU ld writes them to `.gnu.version_d` in the reverse
    /// order: `V3 {...} V1 V2;` gives V3 the parents V2 then V1.
    pub deps: Vec<String>,
    /// Where the node starts (its name, or `{` when anonymous).
    pub line: u32,
    pub column: u32,
}

/// The language of a pattern: which form of a symbol's name it is matched
/// against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// The name as it is in the symbol table.
    C,
    /// The demangled name (`extern "C++"`).
    Cxx,
}

/// One pattern of a `global:` or `local:` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub lang: Lang,
    /// For an exact pattern the name itself (backslashes of an unquoted
    /// pattern removed); for a glob the glob as written.
    pub text: String,
    /// Quoted, or unquoted without an unescaped `*`, `?` or `[`.
    pub exact: bool,
    pub line: u32,
    pub column: u32,
    glob: Vec<Elem>,
}

/// What a version script says of a defined global symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Exported with the version of `nodes()[node]` (which, for the
    /// anonymous node, is no version: the base).
    Global { node: usize },
    /// Hidden: made local by a `local:` pattern.
    Local,
    /// No pattern names it.
    Unlisted,
}

impl Pattern {
    /// Whether the pattern matches `subject`: the symbol's name for a C
    /// pattern, the demangled name for a C++ one (see
    /// [`Pattern::matches_symbol`] to have the form chosen).
    pub fn matches(&self, subject: &[u8]) -> bool {
        if self.exact {
            self.text.as_bytes() == subject
        } else {
            glob_matches(&self.glob, subject)
        }
    }

    /// Whether a C++ pattern matches a demangled name (`ns::f(int)`).
    pub fn matches_demangled(&self, demangled: &str) -> bool {
        self.matches(demangled.as_bytes())
    }

    /// Whether the pattern matches the symbol `name`, whose demangled form
    /// is `demangled` when it has one: C patterns see `name`, C++ patterns
    /// `demangled`, or `name` when it does not demangle (as GNU ld).
    pub fn matches_symbol(&self, name: &[u8], demangled: Option<&str>) -> bool {
        match self.lang {
            Lang::C => self.matches(name),
            Lang::Cxx => self.matches(demangled.map_or(name, str::as_bytes)),
        }
    }

    /// `*` alone, which GNU ld ranks below every other pattern.
    pub fn is_match_all(&self) -> bool {
        !self.exact && self.text == "*"
    }
}

impl VersionNode {
    pub fn is_anonymous(&self) -> bool {
        self.name.is_none()
    }
}

impl VersionScript {
    /// The script's path, as given to [`parse`].
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The nodes in script order. A script has at least one node: either a
    /// single anonymous one or only named ones. Named node `i` is version
    /// index `i + 2` in `.gnu.version_d` (1 is the base version).
    pub fn nodes(&self) -> &[VersionNode] {
        &self.nodes
    }

    /// Whether the script is one anonymous node (a script that hides
    /// symbols but defines no version).
    pub fn is_anonymous(&self) -> bool {
        self.nodes.first().is_some_and(VersionNode::is_anonymous)
    }

    /// Messages for characters GNU ld ignores with a warning
    /// (`rivet: warning: FILE:LINE:COL: ignoring invalid character '@' in
    /// version script`), for the caller to print.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether any pattern is C++: only then need [`VersionScript::classify`]
    /// be given demangled names.
    pub fn has_cxx_patterns(&self) -> bool {
        self.has_cxx
    }

    /// The version a defined global `name` gets, or whether a `local:`
    /// pattern hides it; `demangled` is its demangled form when it has one
    /// (needed only if [`VersionScript::has_cxx_patterns`]). The rules are
    /// in the module documentation.
    pub fn classify(&self, name: &[u8], demangled: Option<&str>) -> Binding {
        let cxx_subject = demangled.map_or(name, str::as_bytes);
        let hit_c = self.exact_c.get(name);
        let hit_cxx = self.exact_cxx.get(cxx_subject);
        let first = match (hit_c, hit_cxx) {
            (Some(a), Some(b)) if b.node < a.node => Some(b),
            (Some(a), Some(b)) if a.node == b.node => Some(if a.global { a } else { b }),
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        if let Some(hit) = first {
            return if hit.global {
                Binding::Global { node: hit.node }
            } else {
                Binding::Local
            };
        }
        let (mut global, mut local, mut star_global, mut star_local) = (None, false, None, false);
        for &(i, in_globals, k) in &self.globs {
            let node = &self.nodes[i];
            let p = if in_globals {
                &node.globals[k]
            } else {
                &node.locals[k]
            };
            if !p.matches_symbol(name, demangled) {
                continue;
            }
            match (in_globals, p.is_match_all()) {
                (true, true) => star_global = Some(i),
                (true, false) => global = Some(i),
                (false, true) => star_local = true,
                (false, false) => local = true,
            }
        }
        match (global, local, star_global) {
            (Some(node), _, _) => Binding::Global { node },
            (None, true, _) => Binding::Local,
            (None, false, Some(node)) => Binding::Global { node },
            (None, false, None) if star_local => Binding::Local,
            _ => Binding::Unlisted,
        }
    }
}

/// Parses the version script `text`, read from `path` (which messages
/// name).
pub fn parse(path: &str, text: &str) -> Result<VersionScript> {
    let mut warnings = Vec::new();
    let tokens = lex(path, text, &mut warnings)?;
    let mut p = Parser {
        path,
        tokens,
        pos: 0,
    };
    let nodes = p.script()?;
    let mut script = VersionScript {
        path: path.to_string(),
        nodes: Vec::new(),
        warnings,
        exact_c: FxHashMap::default(),
        exact_cxx: FxHashMap::default(),
        globs: Vec::new(),
        has_cxx: false,
    };
    // Checked as GNU ld's lang_register_vers_node checks each node against
    // those before it.
    type Key = (Lang, bool, String);
    let mut earlier_globals: FxHashMap<Key, usize> = FxHashMap::default();
    let mut earlier_locals: FxHashMap<Key, usize> = FxHashMap::default();
    let key = |p: &Pattern| (p.lang, p.exact, p.text.clone());
    for node in nodes {
        let here = |line, column| format!("rivet: {path}:{line}:{column}: version script");
        if let Some(first) = script.nodes.first() {
            if node.is_anonymous() || first.is_anonymous() {
                bail!(
                    "{}: anonymous version tag cannot be combined with other version tags",
                    here(node.line, node.column)
                );
            }
        }
        if let Some(name) = &node.name {
            if let Some(prev) = script.nodes.iter().find(|n| n.name.as_ref() == Some(name)) {
                bail!(
                    "{}: duplicate version tag `{name}' (first defined at line {})",
                    here(node.line, node.column),
                    prev.line
                );
            }
        }
        for (pats, others, what) in [
            (&node.globals, &earlier_locals, "global here and local"),
            (&node.locals, &earlier_globals, "local here and global"),
        ] {
            for p in pats {
                if let Some(&i) = others.get(&key(p)) {
                    bail!(
                        "{}: duplicate expression `{}' in version information: {what} in {}",
                        here(p.line, p.column),
                        p.text,
                        describe_node(&script.nodes[i])
                    );
                }
            }
        }
        let index = script.nodes.len();
        for (pats, earlier, global) in [
            (&node.globals, &mut earlier_globals, true),
            (&node.locals, &mut earlier_locals, false),
        ] {
            for p in pats {
                earlier.entry(key(p)).or_insert(index);
                if p.exact {
                    let map = match p.lang {
                        Lang::C => &mut script.exact_c,
                        Lang::Cxx => &mut script.exact_cxx,
                    };
                    map.entry(p.text.as_bytes().to_vec()).or_insert(ExactHit {
                        node: index,
                        global,
                    });
                }
            }
        }
        for (pats, global) in [(&node.globals, true), (&node.locals, false)] {
            for (k, p) in pats.iter().enumerate() {
                if !p.exact {
                    script.globs.push((index, global, k));
                }
                script.has_cxx |= p.lang == Lang::Cxx;
            }
        }
        script.nodes.push(node);
    }
    Ok(script)
}

fn describe_node(node: &VersionNode) -> String {
    match &node.name {
        Some(name) => format!("version {name} (line {})", node.line),
        None => format!("the anonymous version (line {})", node.line),
    }
}

// ---------------------------------------------------------------------------
// Lexing, as ldlex.l's VERS_SCRIPT (between nodes) and VERS_NODE (inside a
// node's braces) states.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LBrace,
    RBrace,
    Semi,
    Colon,
    Comma,
    /// A version name (between nodes).
    Tag(String),
    /// An unquoted pattern (inside a node).
    Ident(String),
    /// A quoted string (inside a node), without its quotes.
    Str(String),
    Global,
    Local,
    Extern,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: u32,
    column: u32,
}

fn is_tag_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '.' | '$' | '_')
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_')
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(
            c,
            '*' | '?' | '.' | '$' | '_' | '[' | ']' | '-' | '!' | '^' | '\\'
        )
}

fn is_ident_char(c: char) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

fn lex(path: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut column) = (0usize, 1u32, 1u32);
    // None between nodes; Some(depth of nested `{`) inside a node.
    let mut in_node: Option<u32> = None;
    let advance = |i: &mut usize, line: &mut u32, column: &mut u32, n: usize| {
        for &c in &chars[*i..*i + n] {
            if c == '\n' {
                *line += 1;
                *column = 1;
            } else {
                *column += 1;
            }
        }
        *i += n;
    };
    while i < chars.len() {
        let c = chars[i];
        let (start_line, start_column) = (line, column);
        let push = |tokens: &mut Vec<Token>, tok| {
            tokens.push(Token {
                tok,
                line: start_line,
                column: start_column,
            })
        };
        match c {
            ' ' | '\t' | '\r' | '\n' => advance(&mut i, &mut line, &mut column, 1),
            '#' => {
                let n = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .unwrap_or(chars.len() - i);
                advance(&mut i, &mut line, &mut column, n);
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let Some(n) = chars[i + 2..].windows(2).position(|w| w == ['*', '/']) else {
                    bail!("rivet: {path}:{line}:{column}: version script: unterminated comment");
                };
                advance(&mut i, &mut line, &mut column, n + 4);
            }
            '{' => {
                in_node = Some(in_node.map_or(0, |d| d + 1));
                push(&mut tokens, Tok::LBrace);
                advance(&mut i, &mut line, &mut column, 1);
            }
            '}' => {
                in_node = match in_node {
                    Some(0) | None => None,
                    Some(d) => Some(d - 1),
                };
                push(&mut tokens, Tok::RBrace);
                advance(&mut i, &mut line, &mut column, 1);
            }
            ';' | ':' | ',' => {
                let tok = match c {
                    ';' => Tok::Semi,
                    ':' => Tok::Colon,
                    _ => Tok::Comma,
                };
                push(&mut tokens, tok);
                advance(&mut i, &mut line, &mut column, 1);
            }
            // An unmatched `"` falls through to the invalid characters.
            '"' if in_node.is_some() && chars[i + 1..].contains(&'"') => {
                let n = chars[i + 1..].iter().position(|&c| c == '"').unwrap_or(0);
                push(
                    &mut tokens,
                    Tok::Str(chars[i + 1..i + 1 + n].iter().collect()),
                );
                advance(&mut i, &mut line, &mut column, n + 2);
            }
            c if in_node.is_some() && is_ident_start(c) => {
                let mut n = 1;
                loop {
                    match chars.get(i + n) {
                        Some(&c) if is_ident_char(c) => n += 1,
                        Some(':') if chars.get(i + n + 1) == Some(&':') => n += 2,
                        _ => break,
                    }
                }
                let word: String = chars[i..i + n].iter().collect();
                let tok = match word.as_str() {
                    "global" => Tok::Global,
                    "local" => Tok::Local,
                    "extern" => Tok::Extern,
                    _ => Tok::Ident(word),
                };
                push(&mut tokens, tok);
                advance(&mut i, &mut line, &mut column, n);
            }
            c if in_node.is_none() && is_tag_start(c) => {
                let n = 1 + chars[i + 1..]
                    .iter()
                    .take_while(|&&c| is_tag_char(c))
                    .count();
                push(&mut tokens, Tok::Tag(chars[i..i + n].iter().collect()));
                advance(&mut i, &mut line, &mut column, n);
            }
            _ => {
                warnings.push(format!(
                    "rivet: warning: {path}:{line}:{column}: ignoring invalid character {c:?} in version script"
                ));
                advance(&mut i, &mut line, &mut column, 1);
            }
        }
    }
    tokens.push(Token {
        tok: Tok::Eof,
        line,
        column,
    });
    Ok(tokens)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LBrace => "'{'".into(),
        Tok::RBrace => "'}'".into(),
        Tok::Semi => "';'".into(),
        Tok::Colon => "':'".into(),
        Tok::Comma => "','".into(),
        Tok::Tag(s) => format!("version name '{s}'"),
        Tok::Ident(s) => format!("pattern '{s}'"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Global => "'global'".into(),
        Tok::Local => "'local'".into(),
        Tok::Extern => "'extern'".into(),
        Tok::Eof => "end of file".into(),
    }
}

// ---------------------------------------------------------------------------
// Parsing, as ldgram.y's vers_node, vers_tag and vers_defns.

struct Parser<'a> {
    path: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek2(&self) -> &Tok {
        &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error(&self, what: &str) -> crate::error::Error {
        let t = &self.tokens[self.pos];
        err!(
            "rivet: {}:{}:{}: syntax error in version script: {what}, found {}",
            self.path,
            t.line,
            t.column,
            describe(&t.tok)
        )
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<()> {
        if *self.peek() != tok {
            return Err(self.error(what));
        }
        self.bump();
        Ok(())
    }

    fn script(&mut self) -> Result<Vec<VersionNode>> {
        let mut nodes = Vec::new();
        loop {
            let name = match self.peek() {
                Tok::LBrace => None,
                Tok::Tag(name) => Some(name.clone()),
                Tok::Eof if !nodes.is_empty() => return Ok(nodes),
                _ => return Err(self.error("expected a version name or '{'")),
            };
            let start = self.bump();
            if name.is_some() {
                self.expect(Tok::LBrace, "expected '{' after the version name")?;
            }
            let mut node = VersionNode {
                name,
                globals: Vec::new(),
                locals: Vec::new(),
                deps: Vec::new(),
                line: start.line,
                column: start.column,
            };
            self.node_body(&mut node)?;
            self.expect(Tok::RBrace, "expected '}' to end the version node")?;
            if node.name.is_some() {
                while let Tok::Tag(dep) = self.peek() {
                    let dep = dep.clone();
                    if !nodes
                        .iter()
                        .any(|n: &VersionNode| n.name.as_ref() == Some(&dep))
                    {
                        let t = &self.tokens[self.pos];
                        let why = if self.tokens[self.pos + 1..]
                            .windows(2)
                            .any(|w| w[0].tok == Tok::Tag(dep.clone()) && w[1].tok == Tok::LBrace)
                        {
                            " (a version can only depend on versions defined before it)"
                        } else {
                            ""
                        };
                        bail!(
                            "rivet: {}:{}:{}: version script: unable to find version dependency `{dep}'{why}",
                            self.path,
                            t.line,
                            t.column
                        );
                    }
                    node.deps.push(dep);
                    self.bump();
                }
                self.expect(Tok::Semi, "expected ';' or a version name after '}'")?;
            } else {
                self.expect(Tok::Semi, "expected ';' after '}'")?;
            }
            nodes.push(node);
        }
    }

    /// `vers_tag`: empty, `LIST`, `global: LIST`, `local: LIST` or
    /// `global: LIST local: LIST`, each LIST ending with `;`.
    fn node_body(&mut self, node: &mut VersionNode) -> Result<()> {
        if *self.peek() == Tok::RBrace {
            return Ok(());
        }
        if self.section_keyword() == Some(Tok::Local) {
            self.pos += 2;
            return self.list(&mut node.locals, Lang::C, false);
        }
        let explicit = self.section_keyword() == Some(Tok::Global);
        if explicit {
            self.pos += 2;
        }
        self.list(&mut node.globals, Lang::C, false)?;
        if self.section_keyword() == Some(Tok::Local) {
            if !explicit {
                return Err(
                    self.error("'local:' after global patterns needs 'global:' before them")
                );
            }
            self.pos += 2;
            self.list(&mut node.locals, Lang::C, false)?;
        }
        Ok(())
    }

    /// `global` or `local` followed by `:`.
    fn section_keyword(&self) -> Option<Tok> {
        match self.peek() {
            t @ (Tok::Global | Tok::Local) if *self.peek2() == Tok::Colon => Some(t.clone()),
            _ => None,
        }
    }

    fn starts_pattern(&self) -> bool {
        matches!(self.peek(), Tok::Ident(_) | Tok::Str(_) | Tok::Extern)
            || (matches!(self.peek(), Tok::Global | Tok::Local) && self.section_keyword().is_none())
    }

    /// `vers_defns`: patterns separated by `;`. Outside an `extern` block
    /// the list must end with `;`; inside one the last `;` is optional.
    fn list(&mut self, out: &mut Vec<Pattern>, lang: Lang, in_extern: bool) -> Result<()> {
        loop {
            if !self.starts_pattern() {
                let what = if matches!(self.peek(), Tok::Global | Tok::Local) {
                    "'global:' must come first and 'local:' last, each once"
                } else {
                    "expected a symbol pattern"
                };
                return Err(self.error(what));
            }
            self.pattern(out, lang)?;
            if *self.peek() == Tok::Semi {
                self.bump();
                if !self.starts_pattern() {
                    return Ok(());
                }
            } else if in_extern {
                return Ok(());
            } else {
                return Err(self.error("expected ';' after pattern"));
            }
        }
    }

    fn pattern(&mut self, out: &mut Vec<Pattern>, lang: Lang) -> Result<()> {
        let t = self.bump();
        let (text, quoted) = match t.tok {
            Tok::Ident(s) => (s, false),
            Tok::Str(s) => (s, true),
            Tok::Global => ("global".to_string(), false),
            Tok::Local => ("local".to_string(), false),
            Tok::Extern => match self.peek().clone() {
                Tok::Str(name) => {
                    let at = self.bump();
                    let inner = if name.eq_ignore_ascii_case("C") {
                        Lang::C
                    } else if name.eq_ignore_ascii_case("C++") {
                        Lang::Cxx
                    } else {
                        let what = if name.eq_ignore_ascii_case("Java") {
                            "unsupported"
                        } else {
                            "unknown"
                        };
                        bail!(
                            "rivet: {}:{}:{}: version script: {what} language `{name}' in version information",
                            self.path,
                            at.line,
                            at.column
                        );
                    };
                    self.expect(Tok::LBrace, "expected '{' after extern \"LANG\"")?;
                    self.list(out, inner, true)?;
                    self.expect(Tok::RBrace, "expected ';' or '}' in extern block")?;
                    return Ok(());
                }
                _ => ("extern".to_string(), false),
            },
            _ => unreachable!("starts_pattern was checked"),
        };
        let (text, exact) = if quoted {
            (text, true)
        } else {
            match unescape_literal(&text) {
                Some(literal) => (literal, true),
                None => (text, false),
            }
        };
        let glob = if exact {
            Vec::new()
        } else {
            compile_glob(&text)
        };
        out.push(Pattern {
            lang,
            text,
            exact,
            line: t.line,
            column: t.column,
            glob,
        });
        Ok(())
    }
}

/// ld's `realsymbol`: an unquoted pattern without an unescaped `*`, `?` or
/// `[` is a name, with each `\` dropped before the character it escapes.
fn unescape_literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' | '[' => return None,
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Globs, as glibc's fnmatch(pattern, name, 0) matches them: one character is
// one UTF-8 sequence (or one byte that is not part of one).

#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    Star,
    Any,
    Char(u32),
    Set {
        negate: bool,
        ranges: Vec<(u32, u32)>,
    },
    /// A trailing `\`: fnmatch matches nothing then.
    Never,
}

/// The next character of `s` and its length in bytes. A byte that does not
/// start a valid UTF-8 sequence is a character of its own, distinct from
/// every valid one.
fn next_char(s: &[u8]) -> (u32, usize) {
    let len = match s[0] {
        0x00..=0x7f => return (u32::from(s[0]), 1),
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return (0xdc00 + u32::from(s[0]), 1),
    };
    match s.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(c) => (u32::from(c.chars().next().unwrap_or('\0')), len),
        None => (0xdc00 + u32::from(s[0]), 1),
    }
}

fn compile_glob(pattern: &str) -> Vec<Elem> {
    let p: Vec<u32> = pattern.chars().map(u32::from).collect();
    let (bs, bang, caret, rb, dash) = (
        b'\\' as u32,
        b'!' as u32,
        b'^' as u32,
        b']' as u32,
        b'-' as u32,
    );
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match char::from_u32(p[i]).unwrap_or('\0') {
            '*' => {
                if out.last() != Some(&Elem::Star) {
                    out.push(Elem::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Elem::Any);
                i += 1;
            }
            '\\' => {
                match p.get(i + 1) {
                    Some(&c) => out.push(Elem::Char(c)),
                    None => out.push(Elem::Never),
                }
                i += 2;
            }
            '[' => {
                // A set, if it is closed; else `[` stands for itself.
                let mut j = i + 1;
                let negate = p.get(j).is_some_and(|&c| c == bang || c == caret);
                if negate {
                    j += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                let closed = loop {
                    let Some(&c) = p.get(j) else { break None };
                    if c == rb && !first {
                        break Some(j + 1);
                    }
                    first = false;
                    let (lo, next) = if c == bs {
                        match p.get(j + 1) {
                            Some(&e) => (e, j + 2),
                            None => break None,
                        }
                    } else {
                        (c, j + 1)
                    };
                    j = next;
                    if p.get(j) == Some(&dash) && p.get(j + 1).is_some_and(|&c| c != rb) {
                        let (hi, next) = if p[j + 1] == bs {
                            match p.get(j + 2) {
                                Some(&e) => (e, j + 3),
                                None => break None,
                            }
                        } else {
                            (p[j + 1], j + 2)
                        };
                        ranges.push((lo, hi));
                        j = next;
                    } else {
                        ranges.push((lo, lo));
                    }
                };
                match closed {
                    Some(end) => {
                        out.push(Elem::Set { negate, ranges });
                        i = end;
                    }
                    None => {
                        out.push(Elem::Char(p[i]));
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(Elem::Char(p[i]));
                i += 1;
            }
        }
    }
    out
}

fn glob_matches(glob: &[Elem], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    // After a `*`: where the pattern resumes and where in `s` it was last
    // tried.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < glob.len() {
            let ok = match &glob[pi] {
                Elem::Star => {
                    pi += 1;
                    star = Some((pi, si));
                    continue;
                }
                Elem::Never => return false,
                _ if si == s.len() => false,
                elem => {
                    let (c, len) = next_char(&s[si..]);
                    let hit = match elem {
                        Elem::Any => true,
                        Elem::Char(p) => *p == c,
                        Elem::Set { negate, ranges } => {
                            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negate
                        }
                        Elem::Star | Elem::Never => unreachable!(),
                    };
                    if hit {
                        pi += 1;
                        si += len;
                    }
                    hit
                }
            };
            if ok {
                continue;
            }
        } else if si == s.len() {
            return true;
        }
        match star {
            Some((resume, tried)) if tried < s.len() => {
                let (_, len) = next_char(&s[tried..]);
                star = Some((resume, tried + len));
                pi = resume;
                si = tried + len;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> VersionScript {
        parse("v.map", text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fail(text: &str) -> String {
        parse("v.map", text).expect_err("should not parse").0
    }

    fn texts(ps: &[Pattern]) -> Vec<(&str, bool)> {
        ps.iter().map(|p| (p.text.as_str(), p.exact)).collect()
    }

    fn class(s: &VersionScript, name: &str) -> Binding {
        s.classify(name.as_bytes(), None)
    }

    #[test]
    fn anonymous_global_and_local_star() {
        let s = ok("{ global: foo; bar*; local: *; };");
        assert!(s.is_anonymous());
        assert_eq!(s.nodes().len(), 1);
        assert_eq!(s.nodes()[0].name, None);
        assert_eq!(
            texts(&s.nodes()[0].globals),
            [("foo", true), ("bar*", false)]
        );
        assert_eq!(texts(&s.nodes()[0].locals), [("*", false)]);
        assert_eq!(class(&s, "foo"), Binding::Global { node: 0 });
        assert_eq!(class(&s, "barn"), Binding::Global { node: 0 });
        assert_eq!(class(&s, "baz"), Binding::Local);
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn rustc_proc_macro_script() {
        let s = ok("{\n  global:\n    __rustc_proc_macro_decls_abc123__;\n    rust_metadata_foo_123;\n\n  local:\n    *;\n};\n");
        let n = &s.nodes()[0];
        assert_eq!(
            texts(&n.globals),
            [
                ("__rustc_proc_macro_decls_abc123__", true),
                ("rust_metadata_foo_123", true)
            ]
        );
        assert_eq!(n.globals[1].line, 4);
        assert_eq!(n.globals[1].column, 5);
        assert_eq!(
            class(&s, "rust_metadata_foo_123"),
            Binding::Global { node: 0 }
        );
        assert_eq!(
            class(&s, "_ZN4core3fmt5write17h0123456789abcdefE"),
            Binding::Local
        );
    }

    #[test]
    fn bare_list_empty_nodes_and_keywords_as_patterns() {
        let s = ok("{ foo; bar; };");
        assert_eq!(texts(&s.nodes()[0].globals), [("foo", true), ("bar", true)]);
        assert!(s.nodes()[0].locals.is_empty());
        assert_eq!(class(&s, "qux"), Binding::Unlisted);
        let s = ok("{ };");
        assert!(s.nodes()[0].globals.is_empty());
        let s = ok("V1 { local: *; };");
        assert!(s.nodes()[0].globals.is_empty());
        let s = ok("V { global: global; local; extern; local: local; };");
        assert_eq!(
            texts(&s.nodes()[0].globals),
            [("global", true), ("local", true), ("extern", true)]
        );
        assert_eq!(texts(&s.nodes()[0].locals), [("local", true)]);
        // The same exact name global and local in one node: global.
        let s = ok("V { global: foo; local: foo; };");
        assert_eq!(class(&s, "foo"), Binding::Global { node: 0 });
    }

    #[test]
    fn named_versions_with_dependencies() {
        let s = ok("VERS_1.1 { global: foo1; local: old*; };\n\
             VERS_1.2 { foo2; } VERS_1.1;\n\
             .V_3 { global: foo3; } VERS_1.2 VERS_1.1 ;");
        let names: Vec<_> = s
            .nodes()
            .iter()
            .map(|n| n.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["VERS_1.1", "VERS_1.2", ".V_3"]);
        assert!(!s.is_anonymous());
        assert!(s.nodes()[0].deps.is_empty());
        assert_eq!(s.nodes()[1].deps, ["VERS_1.1"]);
        assert_eq!(s.nodes()[2].deps, ["VERS_1.2", "VERS_1.1"]);
        assert_eq!(texts(&s.nodes()[1].globals), [("foo2", true)]);
        assert_eq!((s.nodes()[2].line, s.nodes()[2].column), (3, 1));
        assert_eq!(class(&s, "foo2"), Binding::Global { node: 1 });
        assert_eq!(class(&s, "foo3"), Binding::Global { node: 2 });
        assert_eq!(class(&s, "old_thing"), Binding::Local);
        assert_eq!(class(&s, "other"), Binding::Unlisted);
    }

    #[test]
    fn extern_blocks() {
        let s = ok("V1 {\n  global:\n    extern \"C++\" {\n      \"ns::f(int)\";\n      ns::g*;\n      \
             \"ns::h*\"\n    };\n    extern \"c\" { c_only; extern \"C++\" { inner } };\n    after;\n  local: *;\n};");
        assert!(s.has_cxx_patterns());
        let g = &s.nodes()[0].globals;
        let summary: Vec<_> = g
            .iter()
            .map(|p| (p.lang, p.text.as_str(), p.exact))
            .collect();
        assert_eq!(
            summary,
            [
                (Lang::Cxx, "ns::f(int)", true),
                (Lang::Cxx, "ns::g*", false),
                (Lang::Cxx, "ns::h*", true),
                (Lang::C, "c_only", true),
                (Lang::Cxx, "inner", true),
                (Lang::C, "after", true),
            ]
        );
        assert!(g[1].matches_demangled("ns::g(char const*)"));
        assert!(!g[1].matches_demangled("ns::f(int)"));
        assert!(g[2].matches_demangled("ns::h*"));
        assert!(!g[2].matches_demangled("ns::h()"));
        let f = |name: &str, d: &str| s.classify(name.as_bytes(), Some(d));
        assert_eq!(f("_ZN2ns1fEi", "ns::f(int)"), Binding::Global { node: 0 });
        assert_eq!(f("_ZN2ns1fEPKc", "ns::f(char const*)"), Binding::Local);
        assert_eq!(f("_ZN2ns1gEv", "ns::g()"), Binding::Global { node: 0 });
        // C++ patterns see a name that does not demangle as it is.
        assert_eq!(class(&s, "inner"), Binding::Global { node: 0 });
        // C patterns never see the demangled name.
        assert_eq!(f("_Z6c_onlyv", "c_only()"), Binding::Local);
        assert_eq!(f("c_only", "c_only"), Binding::Global { node: 0 });
    }

    #[test]
    fn comments_and_whitespace() {
        let s = ok("# leading\n/* a\n block */ V1 /* x */ {\r\n\tglobal: # to the end\n foo/*c*/;\n  local:*;}/**/;# end");
        assert_eq!(texts(&s.nodes()[0].globals), [("foo", true)]);
        assert_eq!(texts(&s.nodes()[0].locals), [("*", false)]);
        assert_eq!((s.nodes()[0].line, s.nodes()[0].column), (3, 11));
    }

    #[test]
    fn precedence() {
        // Exact beats any glob, global or local, whatever the order.
        let s = ok("V1 { global: f*; }; V2 { local: foo; };");
        assert_eq!(class(&s, "foo"), Binding::Local);
        assert_eq!(class(&s, "fa"), Binding::Global { node: 0 });
        let s = ok("V1 { local: foo*; }; V2 { global: foo; };");
        assert_eq!(class(&s, "foo"), Binding::Global { node: 1 });
        // The first node with an exact match decides.
        let s = ok("V1 { global: foo; }; V2 { global: foo; };");
        assert_eq!(class(&s, "foo"), Binding::Global { node: 0 });
        let s = ok("V1 { global: b*; local: bar; }; V2 { global: ba*; };");
        assert_eq!(class(&s, "bar"), Binding::Local);
        assert_eq!(class(&s, "baz"), Binding::Global { node: 1 });
        // Exact C++ against exact C: the earlier node.
        let s = ok("V1 { global: extern \"C++\" { \"ns::f()\"; }; }; V2 { local: _ZN2ns1fEv; };");
        assert_eq!(
            s.classify(b"_ZN2ns1fEv", Some("ns::f()")),
            Binding::Global { node: 0 }
        );
        // Global globs beat local globs; the last global glob's node wins.
        let s = ok("V1 { global: foo*; }; V2 { local: foo_*; };");
        assert_eq!(class(&s, "foo_bar"), Binding::Global { node: 0 });
        let s = ok("V1 { local: foo_*; }; V2 { global: foo*; };");
        assert_eq!(class(&s, "foo_bar"), Binding::Global { node: 1 });
        let s = ok("V1 { global: f*; }; V2 { global: foo*; }; V3 { global: x*; };");
        assert_eq!(class(&s, "foo"), Binding::Global { node: 1 });
        let s = ok("V1 { global: foo*; }; V2 { global: f*; };");
        assert_eq!(class(&s, "foo"), Binding::Global { node: 1 });
        // `*` comes last: a local glob beats `global: *`, which beats
        // `local: *`; the last `global: *` wins.
        let s = ok("V1 { global: *; }; V2 { local: foo*; };");
        assert_eq!(class(&s, "foo_bar"), Binding::Local);
        assert_eq!(class(&s, "bar"), Binding::Global { node: 0 });
        let s = ok("V1 { global: foo; local: b*; }; V2 { global: *; } V1;");
        assert_eq!(class(&s, "bar"), Binding::Local);
        assert_eq!(class(&s, "qux"), Binding::Global { node: 1 });
        assert_eq!(class(&s, "foo"), Binding::Global { node: 0 });
        // GNU ld refuses `*` global in one node and local in another.
        assert!(fail("V1 { global: foo; local: *; }; V2 { global: *; } V1;")
            .contains("duplicate expression `*'"));
        let s = ok("V1 { global: *; }; V2 { global: *; };");
        assert_eq!(class(&s, "x"), Binding::Global { node: 1 });
        // `*` in a C++ block is match-all too, and matches C names.
        let s = ok("V1 { global: extern \"C++\" { *; }; local: b*; };");
        assert_eq!(class(&s, "bar"), Binding::Local);
        assert_eq!(class(&s, "plain"), Binding::Global { node: 0 });
        // `**` is an ordinary glob, not match-all.
        let s = ok("V1 { global: **; local: b*; };");
        assert_eq!(class(&s, "bar"), Binding::Global { node: 0 });
    }

    #[test]
    fn globs_as_fnmatch() {
        let s =
            ok("V { global: f[a-z]o; b[!a]r; c[^a]r; d\\?; e\\x; [; x[]]y; q[\\]]; u?v; *tail; };");
        let g = &s.nodes()[0].globals;
        assert_eq!(
            texts(g),
            [
                ("f[a-z]o", false),
                ("b[!a]r", false),
                ("c[^a]r", false),
                ("d?", true),
                ("ex", true),
                ("[", false),
                ("x[]]y", false),
                ("q[\\]]", false),
                ("u?v", false),
                ("*tail", false),
            ]
        );
        let m = |i: usize, n: &str| g[i].matches(n.as_bytes());
        assert!(m(0, "foo") && m(0, "fzo") && !m(0, "fAo") && !m(0, "fo"));
        assert!(m(1, "bbr") && !m(1, "bar"));
        assert!(m(2, "cbr") && !m(2, "car"));
        assert!(m(3, "d?") && !m(3, "dx"));
        assert!(m(4, "ex"));
        assert!(m(5, "[") && !m(5, "x"));
        assert!(m(6, "x]y") && !m(6, "xy"));
        assert!(m(7, "q]"));
        assert!(m(8, "uév") && m(8, "u\u{1F600}v") && !m(8, "uv"));
        assert!(m(9, "tail") && m(9, "a_tail") && !m(9, "tails"));
        let glob = compile_glob("a\\");
        assert!(!glob_matches(&glob, b"a\\") && !glob_matches(&glob, b"a"));
        assert!(glob_matches(&compile_glob("a*b*c"), b"aXbYbZc"));
        assert!(!glob_matches(&compile_glob("a*b*c"), b"aXbYbZ"));
        assert!(glob_matches(&compile_glob("?"), b"\xff"));
    }

    #[test]
    fn invalid_characters_are_ignored_with_a_warning() {
        let s = ok("V1 {\n  \"foo;\n};");
        assert_eq!(texts(&s.nodes()[0].globals), [("foo", true)]);
        assert_eq!(
            s.warnings(),
            ["rivet: warning: v.map:2:3: ignoring invalid character '\"' in version script"]
        );
        let s = ok("V1 { global: foo@; local: *; };");
        assert_eq!(texts(&s.nodes()[0].globals), [("foo", true)]);
        assert_eq!(
            s.warnings(),
            ["rivet: warning: v.map:1:17: ignoring invalid character '@' in version script"]
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let cases: &[(&str, &str)] = &[
            (
                "{\n  global:\n    foo\n    bar;\n};",
                "v.map:4:5: syntax error in version script: expected ';' after pattern, found pattern 'bar'",
            ),
            (
                "{ global: foo; local: * };",
                "v.map:1:25: syntax error in version script: expected ';' after pattern, found '}'",
            ),
            (
                "V1 { global: foo; }",
                "v.map:1:20: syntax error in version script: expected ';' or a version name after '}', found end of file",
            ),
            ("", "v.map:1:1: syntax error in version script: expected a version name or '{', found end of file"),
            (
                "V1 { global: foo;; };",
                "v.map:1:18: syntax error in version script: expected '}' to end the version node, found ';'",
            ),
            (
                "V1 { local: *; global: foo; };",
                "v.map:1:16: syntax error in version script: expected '}' to end the version node, found 'global'",
            ),
            (
                "V1 { global: foo; global: bar; };",
                "v.map:1:19: syntax error in version script: expected '}' to end the version node, found 'global'",
            ),
            (
                "{ global: local: *; };",
                "v.map:1:11: syntax error in version script: 'global:' must come first and 'local:' last, each once, found 'local'",
            ),
            (
                "V1 { global: extern \"C\" { foo; bar; } local: *; };",
                "v.map:1:39: syntax error in version script: expected ';' after pattern, found 'local'",
            ),
            (
                "V1 { global: extern \"C\" { }; };",
                "v.map:1:27: syntax error in version script: expected a symbol pattern, found '}'",
            ),
            (
                "V1 { foo; local: *; };",
                "v.map:1:11: syntax error in version script: 'local:' after global patterns needs 'global:' before them, found 'local'",
            ),
            (
                "V1 { global: foo, bar; };",
                "v.map:1:17: syntax error in version script: expected ';' after pattern, found ','",
            ),
            (
                "V1 { global: foo; };;",
                "v.map:1:21: syntax error in version script: expected a version name or '{', found ';'",
            ),
            (
                "{ foo; } V1;",
                "v.map:1:10: syntax error in version script: expected ';' after '}', found version name 'V1'",
            ),
            (
                "V1.2_$x { foo; };",
                "v.map:1:6: syntax error in version script: expected '{' after the version name, found version name '$x'",
            ),
            ("V1 { foo; /* open", "v.map:1:11: version script: unterminated comment"),
        ];
        for (text, want) in cases {
            assert_eq!(fail(text), format!("rivet: {want}"), "for {text:?}");
        }
    }

    #[test]
    fn semantic_errors() {
        assert_eq!(
            fail("V1 { global: foo; };\nV2 { global: bar; } V1 V3;"),
            "rivet: v.map:2:24: version script: unable to find version dependency `V3'"
        );
        assert_eq!(
            fail("V2 { global: bar; } V1;\nV1 { global: foo; };"),
            "rivet: v.map:1:21: version script: unable to find version dependency `V1' \
             (a version can only depend on versions defined before it)"
        );
        assert_eq!(
            fail("V1 { global: bar; };\n\nV1 { global: foo; };"),
            "rivet: v.map:3:1: version script: duplicate version tag `V1' (first defined at line 1)"
        );
        assert_eq!(
            fail("{ global: bar; };\n V1 { global: foo; };"),
            "rivet: v.map:2:2: version script: anonymous version tag cannot be combined with other version tags"
        );
        assert_eq!(
            fail("V1 { global: foo; };\n{ global: bar; };"),
            "rivet: v.map:2:1: version script: anonymous version tag cannot be combined with other version tags"
        );
        assert_eq!(
            fail("{ a; };\n{ b; };"),
            "rivet: v.map:2:1: version script: anonymous version tag cannot be combined with other version tags"
        );
        assert_eq!(
            fail("V1 { local: foo_bar; };\nV2 { global: foo_bar; };"),
            "rivet: v.map:2:14: version script: duplicate expression `foo_bar' in version information: \
             global here and local in version V1 (line 1)"
        );
        assert_eq!(
            fail("V1 { global: foo*; };\nV2 { local: foo*; };"),
            "rivet: v.map:2:13: version script: duplicate expression `foo*' in version information: \
             local here and global in version V1 (line 1)"
        );
        assert_eq!(
            fail("V1 { global: extern \"Pascal\" { foo; }; };"),
            "rivet: v.map:1:21: version script: unknown language `Pascal' in version information"
        );
        assert_eq!(
            fail("V1 { global: extern \"java\" { foo; }; };"),
            "rivet: v.map:1:21: version script: unsupported language `java' in version information"
        );
        // Not duplicates: the same text in another language, or exact
        // against glob, or both in one node.
        ok("V1 { local: foo; }; V2 { global: extern \"C++\" { foo; }; };");
        ok("V1 { local: \"f*\"; }; V2 { global: f*; };");
        ok("V1 { global: *; local: *; };");
    }
}
