//! The link, top to bottom: a flat list of passes, each a line.

use crate::args::{Args, InputArg, OutputKind, Strip};
use crate::error::Result;
use crate::layout::order::OrderOptions;
use crate::layout::segments::{self, PlaceOptions};
use crate::layout::{got, symvals, synthetic};
use crate::layout::{DynTable, Sections, Synthetic};
use crate::mapped::OutputFile;
use crate::resolve::mode::OutputMode;
use crate::resolve::{exec_stack, exports, gc, gnu_property, needed, warnings};
use crate::resolve::{Definition, Stores};
use crate::write::apply::ApplyCtx;
use crate::write::dynamic::write::RelrPlaces;
use crate::write::dynamic::DynPlan;
use crate::write::relocs::RecordCtx;
use crate::write::symtab::SymtabCtx;
use crate::write::{self, relocs, symtab};
use crate::{input, layout, resolve};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a link measured of itself.
#[derive(Debug, Default, Clone)]
pub struct LinkStats {
    /// The parallel write phase: section contents, relocation records,
    /// symbol and string tables.
    pub write: Duration,
    pub total: Duration,
    pub output_size: u64,
    /// Relocation records written (`-r`, `--emit-relocs`).
    pub records: u64,
}

/// Links as GNU ld would with the arguments `argv` (without argv[0]).
pub fn link<S: AsRef<str>>(argv: &[S]) -> Result<LinkStats> {
    let args = Args::parse(argv)?;
    link_args(&args)
}

/// Points in the link an observer is told about (benchmarks and tests
/// measure the write phase with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    WriteStart,
    WriteEnd,
}

pub fn link_args(args: &Args) -> Result<LinkStats> {
    link_observed(args, &|_| {})
}

/// The most worker threads `--threads=N` starts. Output does not depend on
/// the count, and past a few hundred threads only their stacks grow: a
/// mistyped `--threads=100000` would otherwise start 100,000 threads.
pub const MAX_THREADS: usize = 256;

/// Links, calling `observer` at each [`Phase`]. A failed link removes what
/// is at the output path, as GNU ld does (see [`remove_failed_output`]).
pub fn link_observed(args: &Args, observer: &(dyn Fn(Phase) + Sync)) -> Result<LinkStats> {
    let output_unusable = AtomicBool::new(false);
    let result = (|| {
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = args.threads {
            pool = pool.num_threads(n.min(MAX_THREADS));
        }
        let pool = pool
            .build()
            .map_err(|e| crate::err!("rivet: cannot start worker threads: {e}"))?;
        pool.install(|| run(args, observer, &output_unusable))
    })();
    if result.is_err() && !args.inputs.is_empty() && !output_unusable.load(Ordering::Relaxed) {
        remove_failed_output(args);
    }
    result
}

/// After a failed link GNU ld deletes the output file, so that an old
/// program cannot pass for the one that failed to link (a build that ignores
/// the exit status would go on with it). Only a regular file or a symlink
/// (not what it points to) is removed, never a directory or other special
/// file, and not a file that is also an input (GNU ld refuses such a link
/// before touching its output). Not when there were no inputs (GNU ld stops
/// before opening its output then) or when the output itself could not be
/// created: then it is not rivet's to remove.
fn remove_failed_output(args: &Args) {
    use std::os::unix::fs::MetadataExt;
    let out = &args.output;
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return;
    };
    if !meta.file_type().is_file() && !meta.file_type().is_symlink() {
        return;
    }
    if let Ok(target) = std::fs::metadata(out) {
        let is_input = args.inputs.iter().any(|i| match i {
            InputArg::Path { path, .. } => std::fs::metadata(path)
                .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino()),
            _ => false,
        });
        if is_input {
            return;
        }
    }
    let _ = std::fs::remove_file(out);
}

/// Prints each pass's duration to stderr when RIVET_TIMING is set.
struct PassTimer {
    enabled: bool,
    last: Instant,
}

impl PassTimer {
    fn new() -> PassTimer {
        PassTimer {
            enabled: std::env::var_os("RIVET_TIMING").is_some(),
            last: Instant::now(),
        }
    }
    fn mark(&mut self, pass: &str) {
        if self.enabled {
            eprintln!(
                "rivet: {:>8.2} ms  {pass}",
                self.last.elapsed().as_secs_f64() * 1e3
            );
        }
        self.last = Instant::now();
    }
}

fn run(
    args: &Args,
    observer: &(dyn Fn(Phase) + Sync),
    output_unusable: &AtomicBool,
) -> Result<LinkStats> {
    let start = Instant::now();
    let mut t = PassTimer::new();
    let exe = args.kind != OutputKind::Relocatable;
    if args.inputs.is_empty() {
        crate::bail!("rivet: no input files");
    }
    let unknown_z: Vec<String> = args
        .unknown_z_keywords
        .iter()
        .map(|k| format!("rivet: warning: -z {k} ignored"))
        .collect();
    warnings::report(args, &unknown_z)?; //                     unknown -z keywords, as GNU ld warns
    let inputs = input::open_inputs(args)?; //                  map every input file
    refuse_output_among_inputs(args, &inputs) //               never overwrite an input
        .inspect_err(|_| output_unusable.store(true, Ordering::Relaxed))?; // ... nor remove it
    t.mark("open");
    let mut stores = Stores::default();
    stores.parse.keep_excluded = !exe; //                       -r keeps SHF_EXCLUDE sections
    let mut res = resolve::resolve(args, &inputs, &stores)?; // symbols, archive members, COMDAT
    let mode = OutputMode::decide(args, &res); //               static, PIE, dynamic non-PIE or -r
    if mode.has_loader() {
        let deps = needed::load(args, &res)?; //                  the shared objects' own DT_NEEDED
        warnings::report(args, &deps.warnings)?; //              ... not found
        deps.check_missing(&res)?; //                          "DSO missing from command line"
        if !args.allow_shlib_undefined {
            deps.check_shlib_undefined(&res)?; //              their undefined symbols
        }
    }
    t.mark("resolve");
    if exe {
        refuse_lto_ir(&res)?; //                               no LTO plugin: IR-only objects
    }
    let properties = gnu_property::merge(args, &res)?; //       .note.gnu.property; -z cet-report
    t.mark("program properties");
    let script = exports::read_version_script(args)?; //        --version-script
    t.mark("version script");
    if exe && args.gc_sections {
        gc::collect_garbage(args, &mut res, script.as_ref()); //               --gc-sections: drop what nothing live reaches
        t.mark("gc");
    }
    exports::mark(args, &mut res, mode, script.as_ref())?; //   what .dynsym exports; what binds at run time
    t.mark("exports");
    let stack = exec_stack::plan(args, &res); //                 PT_GNU_STACK, from -z or the inputs' notes
    exec_stack::report(args, &stack)?; //                        "... implies executable stack"
    warnings::report(args, &warnings::collect(&res))?; //       .gnu.warning texts, as GNU ld prints them
    let map = layout::assign::assign(args, &res, mode)?; //     output sections, .eh_frame records, merged pieces
    t.mark("assign sections");
    let mut got_plan = got::GotPlan::default();
    let mut commons = symvals::Commons::default();
    let mut dyn_plan = None;
    if exe {
        symvals::mark_synthetic(&mut res, &map, mode.is_dynamic()); //            __start_X, __init_array_start, ...
        resolve::check_defsym_bases(&res)?; //                  --defsym relative to a defined symbol
        got_plan = got::scan(&res, &map, mode, args.pack_relative_relocs)?; //     GOT, PLT, copies, dynamic records; undefined symbols
        report_text_relocations(args, mode, &got_plan)?; //     -z text: an error; else GNU ld's warnings
        commons = symvals::plan_commons(&res)?; //            COMMON symbols into .bss
        if mode.is_dynamic() {
            let plan = DynPlan::new(args, &res, &map, &got_plan, mode, script.as_ref());
            dyn_plan = Some(plan); //                             .dynsym, .rela.dyn, ... counted
        }
    }
    let mut tables = synthetic::tables(
        &map,
        &synthetic::TableCounts {
            mode,
            got: &got_plan,
            commons: &commons,
            gnu_property: &properties.note,
            build_id_size: write::build_id_note_size(&args.build_id),
        },
    ); //                                                      .got, .plt, .comment, ... sized from the counts
    if let Some(plan) = &dyn_plan {
        tables.extend(plan.tables(&got_plan, properties.ibt_plt)); // .dynsym, .rela.dyn, .dynamic, ...
    }
    let order_opts = OrderOptions {
        emit_relocs: args.emit_relocs,
        exec_stack: stack.segment,
    };
    let order = layout::order::order(map, &res, &tables, &order_opts); // section order, chunk offsets
    t.mark("scan, synthetic sections, chunk layout");
    let with_symtab = args.strip != Strip::All || !exe;
    let emit_relocs = !exe || args.emit_relocs;
    let (mut relas, records) = if emit_relocs {
        relocs::plan(&RecordCtx {
            res: &res,
            sections: &order,
            symtab: None,
            exe,
            targets: &[],
        }) // count records
    } else {
        (Vec::new(), 0)
    };
    t.mark("count relocation records");
    let mut toc = write::assign_indices(&res, &order, &mut relas, !exe, with_symtab); // header order
    let symtab_plan = with_symtab.then(|| {
        let linker = if exe {
            symvals::LinkerSyms::collect(&res, &order) // _end, __init_array_start, ...
        } else {
            symvals::LinkerSyms::default()
        };
        symtab::plan(&res, &order, &toc, emit_relocs, exe, linker) // count symbols
    });
    t.mark("count symbols");
    let place_opts = PlaceOptions {
        exec_stack: stack.segment,
        stack_size: args.gnu_property.stack_size,
        relro: args.relro,
        bind_now: args.bind_now && mode.is_dynamic(),
    };
    let relr_places = dyn_plan
        .as_ref()
        .is_some_and(|p| p.relr_count > 0)
        .then(|| RelrPlaces::new(&res, &order, &got_plan, mode)); // what .relr.dyn relocates
    t.mark("relr places");
    let mut relr = None;
    let mut encode_relr = relr_places.as_ref().map(|p| p.encoder(&mut relr));
    let late = encode_relr.as_mut().map(|f| {
        (
            Synthetic::Dyn(DynTable::Relr),
            f as &mut dyn FnMut(&Sections) -> u64,
        )
    });
    let sections = segments::place(order, &place_opts, late); // addresses, segments (.relr.dyn sized)
    drop(encode_relr); //                                       it holds `relr`, the table encoded last
    let (tls, end) = (sections.tls, sections.end);
    let version_counts = dyn_plan
        .as_ref()
        .map_or((0, 0), |p| (p.verneed_count, p.verdef_count));
    toc.finish(
        &sections,
        &mut relas,
        symtab_plan.as_ref(),
        &res,
        !exe,
        end,
        version_counts,
    ); // file offsets
    let values = symvals::SymbolValues::compute(&res, &sections, &commons, &got_plan); // symbol values
    let entry = if exe {
        entry_address(args, &res, &sections, &values)?
    } else {
        0
    };
    let record_targets = match (&symtab_plan, emit_relocs) {
        (Some(plan), true) => relocs::record_targets(&res, &sections, plan), // output symbol per input symbol
        _ => Vec::new(),
    };
    t.mark("addresses, offsets, symbol values");

    let ctx = write::WriteCtx {
        res: &res,
        sections: &sections,
        relas: &relas,
        toc: &toc,
        symtab: symtab_plan.as_ref(),
        symtab_ctx: symtab_plan.as_ref().map(|plan| SymtabCtx {
            res: &res,
            sections: &sections,
            toc: &toc,
            plan,
            commons: &commons,
            global_values: if exe { &values.global } else { &[] },
            tls_start: tls.map_or(0, |t| t.start),
        }),
        records: RecordCtx {
            res: &res,
            sections: &sections,
            symtab: symtab_plan.as_ref(),
            exe,
            targets: &record_targets,
        },
        apply: exe.then(|| ApplyCtx {
            res: &res,
            sections: &sections,
            got: &got_plan,
            values: &values,
            tls: tls.unwrap_or_default(),
        }),
        got: exe.then_some(&got_plan),
        phdrs: &sections.phdrs,
        entry,
        build_id: &args.build_id,
        gnu_property: &properties.note,
        ibt_plt: properties.ibt_plt,
        mode,
        dynamic: dyn_plan.as_ref(),
        relr: relr.as_ref(),
    };
    let mut file = OutputFile::create(&args.output, toc.file_size, exe) // map the output once
        .inspect_err(|_| output_unusable.store(true, Ordering::Relaxed))?;
    t.mark("create output");
    observer(Phase::WriteStart);
    let write_start = Instant::now();
    file.populate(); //                                          fault the output in, in parallel
    t.mark("fault in output");
    ctx.write(file.bytes())?; //                                 parallel write of every slice
    let write = write_start.elapsed();
    observer(Phase::WriteEnd);
    t.mark("write");
    ctx.write_late(file.bytes())?; //                            .eh_frame_hdr, build ID
    t.mark("eh_frame_hdr, build id");
    file.commit() //                                            rename into place
        .inspect_err(|_| output_unusable.store(true, Ordering::Relaxed))?;
    t.mark("commit");
    crate::write::mapfile::write_if_asked(args, &inputs, &res, &sections, &toc.out_index, &values)?; // -Map, -M: the link map
    t.mark("map");
    let stats = LinkStats {
        write,
        total: start.elapsed(),
        output_size: toc.file_size,
        records,
    };
    if EXIT_AFTER_LINK.load(Ordering::Relaxed) {
        // The process ends next, and the kernel takes back the mappings
        // and the heap at once: freeing them here first, one input file
        // and one vector at a time, took ~8 ms of the self-link.
        std::mem::forget((values, record_targets, symtab_plan, toc, relas));
        std::mem::forget((got_plan, commons, sections, dyn_plan, relr));
        std::mem::forget(res);
        std::mem::forget(stores);
        std::mem::forget(inputs);
    }
    Ok(stats)
}

/// Set by the `rivet` program, which exits as soon as the link is done: a
/// successful link then leaves its memory to the kernel instead of freeing
/// it. Library callers (tests, benchmarks) that link many times keep the
/// default, and every link frees what it used.
static EXIT_AFTER_LINK: AtomicBool = AtomicBool::new(false);

/// Tells the links of this process not to free their memory when they
/// succeed, because the process exits right after (see [`EXIT_AFTER_LINK`]).
pub fn exit_after_link() {
    EXIT_AFTER_LINK.store(true, Ordering::Relaxed);
}

/// GNU ld refuses a link whose output is one of its inputs. rivet must
/// too: it overwrites an existing output in place, which would change an
/// input it is still reading.
fn refuse_output_among_inputs(args: &Args, inputs: &[input::OpenedInput]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(out) = std::fs::metadata(&args.output) else {
        return Ok(());
    };
    let same = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino())
    };
    for i in inputs {
        if same(&i.path) {
            crate::bail!(
                "rivet: input file '{}' is the same as output file",
                i.path.display()
            );
        }
        // A thin archive's members are files of their own.
        if i.bytes.starts_with(b"!<thin>\n") {
            let Ok(ar) = input::parse_archive(&i.path, &i.bytes) else {
                continue;
            };
            for m in &ar.members {
                if let input::MemberData::External(p) = &m.data {
                    if same(p) {
                        crate::bail!(
                            "rivet: input file '{}' (a member of thin archive {}) is the same as output file",
                            p.display(),
                            i.path.display()
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Dynamic records in read-only sections (text relocations): an error
/// under `-z text`, else GNU ld's warnings, naming the first such
/// relocation of each file.
fn report_text_relocations(args: &Args, mode: OutputMode, got: &got::GotPlan) -> Result<()> {
    if !got.textrel {
        return Ok(());
    }
    if args.z_text == Some(true) {
        let lines: Vec<String> = got
            .textrel_places
            .iter()
            .map(|p| format!("rivet: error: {p}; recompile with -fPIC"))
            .chain(std::iter::once(
                "rivet: error: read-only segment has dynamic relocations (-z text)".to_string(),
            ))
            .collect();
        crate::bail!("{}", lines.join("\n"));
    }
    let mut warnings: Vec<String> = got
        .textrel_places
        .iter()
        .map(|p| format!("rivet: warning: {p}"))
        .collect();
    if mode.is_pie() {
        warnings.push("rivet: warning: creating DT_TEXTREL in a PIE".to_string());
    }
    warnings::report(args, &warnings)
}

/// GCC `-flto` objects without `-ffat-lto-objects` hold IR and no code:
/// linking them without compiling the IR (GNU ld's LTO plugin) would link an
/// empty object, so say why instead of "undefined symbol: main".
fn refuse_lto_ir(res: &resolve::Resolution) -> Result<()> {
    match res.objects.iter().find(|o| o.lto_slim) {
        Some(o) => crate::bail!(
            "rivet: {}: contains GCC LTO bytecode only (built with -flto); rivet has no LTO plugin support: rebuild without -flto, or with -ffat-lto-objects",
            o.name
        ),
        None => Ok(()),
    }
}

fn entry_address(
    args: &Args,
    res: &resolve::Resolution,
    s: &Sections,
    values: &symvals::SymbolValues,
) -> Result<u64> {
    // A shared object has no entry point unless `-e` names one.
    if args.kind == OutputKind::Shared && args.entry.is_none() {
        return Ok(0);
    }
    let name = args.entry.as_deref().unwrap_or("_start");
    if let Some(id) = res.lookup(name.as_bytes()) {
        if res.symbols[id as usize].def != Definition::Undefined {
            return Ok(values.global[id as usize]);
        }
    }
    if let Ok(v) = parse_number(name) {
        return Ok(v);
    }
    let text = s.find(b".text").map(|o| o.addr).unwrap_or(0);
    warnings::report(
        args,
        &[format!(
            "rivet: warning: cannot find entry symbol {name}; defaulting to {text:#x}"
        )],
    )?;
    Ok(text)
}

fn parse_number(s: &str) -> std::result::Result<u64, std::num::ParseIntError> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
}
