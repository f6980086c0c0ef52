//! Which globals a dynamic output exports in `.dynsym`, with which
//! version, and which of them are bound at run time (preemptible) rather
//! than at link time. Decided once, after `--gc-sections`, and read by the
//! relocation scan (through [`crate::layout::got::sym_class`]) and by the
//! `.dynsym` plan.
//!
//! An executable exports what `-E`, `--dynamic-list` or a shared object's
//! reference asks for, and binds everything itself. A shared object
//! exports every default- or protected-visibility definition a version
//! script does not hide (nor `--exclude-libs`); of those, the
//! default-visibility ones may be interposed by another module, unless
//! `-Bsymbolic` (`-Bsymbolic-functions` for functions) binds them here.
//! Its undefined symbols are left to the loader.

use crate::args::{Args, Symbolic};
use crate::bail;
use crate::error::Result;
use crate::input::object::SymPlace;
use crate::input::version_script::{Binding, VersionScript};
use crate::resolve::mode::OutputMode;
use crate::resolve::{Definition, Resolution, SymId};
use object::elf;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// `.gnu.version`'s bit for a version that is not the default one
/// (`foo@V`, not `foo@@V`): the symbol is bound only by an explicit
/// version.
pub const VERSYM_HIDDEN: u16 = 0x8000;

/// Reads the version scripts named on the command line. GNU ld reads
/// several as one script, in order (a later one may name an earlier one's
/// versions as parents); a message about the joined text names the file
/// and line it came from.
pub fn read_version_script(args: &Args) -> Result<Option<VersionScript>> {
    if args.version_scripts.is_empty() {
        return Ok(None);
    }
    let mut joined = String::new();
    // (first line in `joined`, file name) of each script.
    let mut starts: Vec<(usize, String)> = Vec::new();
    for path in &args.version_scripts {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::err!("rivet: cannot read version script {name}: {e}"))?;
        starts.push((joined.lines().count() + 1, name));
        joined.push_str(&text);
        if !joined.ends_with('\n') {
            joined.push('\n');
        }
    }
    const JOINED: &str = "<version scripts>";
    let name = match starts.as_slice() {
        [(_, only)] => only.as_str(),
        _ => JOINED,
    };
    // `JOINED:LINE:` in a message becomes `FILE:LINE-IN-FILE:`.
    let locate = |msg: String| -> String {
        let Some(at) = msg.find(JOINED) else {
            return msg;
        };
        let rest = &msg[at + JOINED.len()..];
        let Some((line, tail)) = rest
            .strip_prefix(':')
            .and_then(|r| r.split_once(':'))
            .and_then(|(l, t)| Some((l.parse::<usize>().ok()?, t)))
        else {
            return msg;
        };
        let (first, file) = starts
            .iter()
            .rev()
            .find(|s| s.0 <= line)
            .unwrap_or(&starts[0]);
        format!("{}{file}:{}:{tail}", &msg[..at], line - first + 1)
    };
    let script = crate::input::version_script::parse(name, &joined)
        .map_err(|e| crate::error::Error(locate(e.0)))?;
    let warnings: Vec<String> = script.warnings().iter().cloned().map(locate).collect();
    crate::resolve::warnings::report(args, &warnings)?;
    Ok(Some(script))
}

/// What [`mark`] decides for one global.
#[derive(Default, Clone, Copy)]
struct Export {
    exported: bool,
    preemptible: bool,
    version: u16,
}

/// The version index (2 up) of version `name` in `script`, whose named
/// nodes are numbered in script order.
fn version_index(script: Option<&VersionScript>, name: &[u8]) -> Option<u16> {
    let nodes = script?.nodes();
    nodes
        .iter()
        .position(|n| n.name.as_deref().map(str::as_bytes) == Some(name))
        .map(|i| i as u16 + 2)
}

/// Whether object `name` (`archive(member)`) comes from an archive
/// `--exclude-libs` names.
fn excluded(args: &Args, name: &str) -> bool {
    if args.exclude_libs.is_empty() {
        return false;
    }
    let Some(archive) = name.strip_suffix(')').and_then(|n| n.split_once('(')) else {
        return false;
    };
    let base = crate::input::object::basename(archive.0);
    args.exclude_libs.iter().any(|l| l == "ALL" || l == base)
}

/// The `.gnu.version` a shared object's definition named `own` (in its
/// object: `foo`, `foo@V` or `foo@@V`) gets from `script`, or `None` when
/// the script hides it. An explicit version must be one the script
/// defines.
pub fn script_version(
    script: Option<&VersionScript>,
    own: &[u8],
) -> std::result::Result<Option<u16>, String> {
    let base = crate::resolve::dynamic_name(own);
    let Some(script) = script else {
        return Ok(Some(1));
    };
    let pretty = || {
        script
            .has_cxx_patterns()
            .then(|| crate::demangle::demangle_for_script(base))
            .flatten()
    };
    let Some(at) = memchr::memchr(b'@', own).filter(|&at| at > 0) else {
        return Ok(match script.classify(base, pretty().as_deref()) {
            Binding::Local => None,
            Binding::Global { node } if !script.nodes()[node].is_anonymous() => {
                Some(node as u16 + 2)
            }
            _ => Some(1),
        });
    };
    let (name, default) = match own[at + 1..].strip_prefix(b"@") {
        Some(v) => (v, true),
        None => (&own[at + 1..], false),
    };
    let Some(index) = version_index(Some(script), name) else {
        return Err(format!(
            "version node not found for symbol {}",
            String::from_utf8_lossy(own)
        ));
    };
    // GNU ld (`_bfd_elf_link_hide_versioned_symbol`) still hides it when
    // its own version's `local:` list matches and its `global:` list
    // does not.
    let node = &script.nodes()[usize::from(index - 2)];
    let pretty = pretty();
    let matches = |list: &[crate::input::version_script::Pattern]| {
        list.iter()
            .any(|p| p.matches_symbol(base, pretty.as_deref()))
    };
    if !matches(&node.globals) && matches(&node.locals) {
        return Ok(None);
    }
    Ok(Some(if default {
        index
    } else {
        index | VERSYM_HIDDEN
    }))
}

/// Sets `exported`, `preemptible` and `version` of every global for an
/// output of kind `mode`.
pub fn mark(
    args: &Args,
    res: &mut Resolution,
    mode: OutputMode,
    script: Option<&VersionScript>,
) -> Result<()> {
    if !mode.is_dynamic() {
        return Ok(());
    }
    let shared = mode == OutputMode::Shared;
    let narrowed = narrowed_visibility(res);
    let decided: Vec<Result<Export>> = res
        .symbols
        .par_iter()
        .enumerate()
        .map(|(id, g)| {
            // Visibility is the most constraining of every object's
            // symbol for the name (gABI): a hidden reference hides it.
            let narrow = narrowed.get(&(id as SymId)).copied();
            let (file, sym) = match g.def {
                Definition::Object { file, sym, .. } => (file, sym as usize),
                // Left to the loader: imports. (Not a hidden reference: that
                // must be defined here.)
                Definition::Undefined if shared && !args.z_defs && narrow.is_none() => {
                    return Ok(Export {
                        preemptible: true,
                        ..Export::default()
                    })
                }
                _ => return Ok(Export::default()),
            };
            let obj = &res.objects[file as usize];
            let s = &obj.symbols[sym];
            let visibility = narrow.unwrap_or(elf::STV_DEFAULT);
            let visible = matches!(visibility, elf::STV_DEFAULT | elf::STV_PROTECTED);
            let kept = match obj.place_of(sym) {
                SymPlace::Section(k) => obj.sections[k as usize].kept,
                SymPlace::Undefined => false,
                _ => true,
            };
            if !visible || !kept || s.st_bind() == elf::STB_LOCAL {
                return Ok(Export::default());
            }
            if !shared {
                let listed = || {
                    args.dynamic_list
                        .iter()
                        .any(|p| crate::args::glob_match(p.as_bytes(), g.name))
                };
                let exported = args.export_dynamic || g.dso_ref || listed();
                return Ok(Export {
                    exported,
                    preemptible: false,
                    version: 1,
                });
            }
            // The definition's own name: `foo@@V` for it and its aliases
            // `foo` and `foo@V`, of which only it is listed.
            let own = obj.name_of(sym);
            let primary = g.name == own;
            let base_name = crate::resolve::dynamic_name(own);
            let version = match script_version(script, own) {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(Export::default()),
                Err(why) => bail!("rivet: error: {}: {why}", obj.name),
            };
            if excluded(args, &obj.name) {
                return Ok(Export::default());
            }
            let function = matches!(s.st_type(), elf::STT_FUNC | elf::STT_GNU_IFUNC);
            // `--dynamic-list` in a shared object names what may be
            // interposed, and the rest binds here, whatever -Bsymbolic
            // says (GNU ld 2.40).
            let bound_here = match args.symbolic {
                _ if !args.dynamic_list.is_empty() => !args
                    .dynamic_list
                    .iter()
                    .any(|p| crate::args::glob_match(p.as_bytes(), base_name)),
                Symbolic::All => true,
                Symbolic::Functions => function,
                Symbolic::None => false,
            };
            Ok(Export {
                exported: primary,
                preemptible: visibility == elf::STV_DEFAULT && !bound_here,
                version,
            })
        })
        .collect();
    if let (Some(script), true) = (script, shared && args.no_undefined_version) {
        check_versions_defined(res, script)?;
    }
    for (g, d) in res.symbols.iter_mut().zip(decided) {
        let d = d?;
        g.exported = d.exported;
        g.preemptible = d.preemptible;
        g.version = d.version;
    }
    Ok(())
}

/// `--no-undefined-version`: every exact name a version script exports is
/// defined by the output (GNU ld's "symbol not defined" error).
fn check_versions_defined(res: &Resolution, script: &VersionScript) -> Result<()> {
    use crate::input::version_script::Lang;
    for node in script.nodes() {
        for p in node.globals.iter().filter(|p| p.exact && p.lang == Lang::C) {
            let defined = res.lookup(p.text.as_bytes()).is_some_and(|id| {
                matches!(res.symbols[id as usize].def, Definition::Object { .. })
            });
            if !defined {
                bail!(
                    "rivet: error: {}:{}:{}: version script assignment of '{}' to symbol '{}' failed: symbol not defined",
                    script.path(),
                    p.line,
                    p.column,
                    node.name.as_deref().unwrap_or("global"),
                    p.text
                );
            }
        }
    }
    Ok(())
}

/// The globals some object names with a visibility other than default,
/// and the most constraining such visibility (hidden or internal before
/// protected).
fn narrowed_visibility(res: &Resolution) -> FxHashMap<SymId, u8> {
    let found: Vec<Vec<(SymId, u8)>> = res
        .objects
        .par_iter()
        .map(|obj| {
            obj.symbols[obj.first_global.min(obj.symbols.len())..]
                .iter()
                .zip(&obj.global_ids)
                .filter(|(s, _)| s.st_other & 3 != elf::STV_DEFAULT)
                .map(|(s, &id)| (id, s.st_other & 3))
                .collect()
        })
        .collect();
    let mut narrowed: FxHashMap<SymId, u8> = FxHashMap::default();
    // Protected is the least constraining of the three.
    let rank = |v: u8| if v == elf::STV_PROTECTED { 0 } else { 1 };
    for (id, v) in found.into_iter().flatten() {
        let e = narrowed.entry(id).or_insert(v);
        if rank(v) > rank(*e) {
            *e = v;
        }
    }
    narrowed
}
