//! The link, top to bottom: a flat list of passes, each a line.

use crate::args::{Args, InputArg, OutputKind, Strip};
use crate::error::Result;
use crate::input::ehframe;
use crate::layout::{got, merge, symvals};
use crate::layout::{DynTable, Sections, Synthetic, EHDR_SIZE};
use crate::mapped::OutputFile;
use crate::resolve::mode::OutputMode;
use crate::resolve::{exec_stack, exports, gc, gnu_property, needed, warnings};
use crate::resolve::{Definition, Stores};
use crate::write::apply::ApplyCtx;
use crate::write::dynamic::write::{relr_addresses, RelrTable};
use crate::write::dynamic::DynPlan;
use crate::write::relocs::RecordCtx;
use crate::write::symtab::SymtabCtx;
use crate::write::{self, relocs, symtab};
use crate::{input, layout, resolve};
use object::elf;
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
        let deps = needed::load(args, &res); //                   the shared objects' own DT_NEEDED
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
    let mut sections = layout::assign_sections(args, &res)?; // output sections, .eh_frame records
    sections.mode = mode;
    if !exe {
        sections.mark_stack_note(stack.segment); //             -r: the merged .note.GNU-stack's X flag
    }
    if !exe && !properties.note.is_empty() {
        sections.add_synthetic_first(
            gnu_property::SECTION,
            elf::SHT_NOTE,
            u64::from(elf::SHF_ALLOC),
            Synthetic::GnuProperty,
            properties.note.len() as u64,
            8,
        ); //                                                  -r: the merged note comes first
    }
    t.mark("assign sections");
    if exe {
        merge::merge_sections(&res, &mut sections); //          SHF_MERGE strings and constants, each once
        t.mark("merge sections");
    }
    let mut got_plan = got::GotPlan::default();
    let mut commons = symvals::Commons::default();
    let mut dyn_plan = None;
    if exe {
        symvals::mark_synthetic(&mut res, &sections, mode.is_dynamic()); //       __start_X, __init_array_start, ...
        resolve::check_defsym_bases(&res)?; //                  --defsym relative to a defined symbol
        got_plan = got::scan(&res, &sections, mode, args.pack_relative_relocs)?; //      GOT, PLT, copies, dynamic records; undefined symbols
        report_text_relocations(args, mode, &got_plan)?; //     -z text: an error; else GNU ld's warnings
        commons = symvals::plan_commons(&res)?; //            COMMON symbols into .bss
        if mode.is_dynamic() {
            dyn_plan = Some(DynPlan::new(
                args,
                &res,
                &sections,
                &got_plan,
                mode,
                script.as_ref(),
            ));
            // .dynsym, .rela.dyn, ... counted
        }
        add_synthetic_sections(args, &mut sections, &got_plan, &commons, &properties.note);
        if let Some(plan) = &dyn_plan {
            add_dynamic_sections(&mut sections, &got_plan, plan, properties.ibt_plt);
            // their sizes, from the counts
        }
        symvals::add_script_sections(&res, &mut sections); // .preinit_array for __preinit_array_start, ...
        sections.sort_for_executable(); //                    section order and segments
    }
    sections.layout_chunks(); //                               chunk offsets (prefix sums)
    if exe {
        merge::place_pieces(&mut sections); //                  where merged pieces landed
        sections.omit_empty(args.emit_relocs); //               no header for empty sections, as GNU ld
    }
    t.mark("scan, synthetic sections, chunk layout");
    let with_symtab = args.strip != Strip::All || !exe;
    let emit_relocs = !exe || args.emit_relocs;
    let (mut relas, records) = if emit_relocs {
        relocs::plan(&RecordCtx {
            res: &res,
            sections: &sections,
            symtab: None,
            exe,
            targets: &[],
        }) // count records
    } else {
        (Vec::new(), 0)
    };
    t.mark("count relocation records");
    let mut toc = write::assign_indices(&res, &sections, &mut relas, !exe, with_symtab); // header order
    let symtab_plan = with_symtab.then(|| {
        let linker = if exe {
            symvals::LinkerSyms::collect(&res, &sections) // _end, __init_array_start, ...
        } else {
            symvals::LinkerSyms::default()
        };
        symtab::plan(&res, &sections, &toc, emit_relocs, exe, linker) // count symbols
    });
    t.mark("count symbols");
    let (phdrs, tls, end, relr) = if exe {
        let place = |s: &mut Sections| {
            s.place_executable(
                stack.segment,
                args.gnu_property.stack_size,
                args.relro,
                args.bind_now && mode.is_dynamic(),
            )
        };
        let (mut phdrs, mut tls, mut end) = place(&mut sections); // addresses, segments
        let mut relr = None;
        if dyn_plan.as_ref().is_some_and(|p| p.relr_count > 0) {
            // .relr.dyn's size depends on the addresses it encodes, which
            // move with it: lay out again until it stays the same (the
            // encoding is the same under a shift, so once or twice).
            for _ in 0..8 {
                let table = RelrTable::new(relr_addresses(&res, &sections, &got_plan, mode));
                let resized =
                    sections.resize_synthetic(Synthetic::Dyn(DynTable::Relr), table.size());
                relr = Some(table);
                if !resized {
                    break;
                }
                (phdrs, tls, end) = place(&mut sections);
            }
        }
        (phdrs, tls, end, relr)
    } else {
        let end = sections.place_relocatable(EHDR_SIZE);
        (Vec::new(), None, end, None)
    };
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
        phdrs: &phdrs,
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
        std::mem::forget((phdrs, got_plan, commons, sections, dyn_plan, relr));
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

fn add_synthetic_sections(
    args: &Args,
    s: &mut Sections,
    got: &got::GotPlan,
    commons: &symvals::Commons,
    gnu_property: &[u8],
) {
    let a = u64::from(elf::SHF_ALLOC);
    let w = u64::from(elf::SHF_WRITE);
    let x = u64::from(elf::SHF_EXECINSTR);
    let merge_strings = u64::from(elf::SHF_MERGE | elf::SHF_STRINGS);
    let comment_len = layout::COMMENT.len() as u64;
    s.add_synthetic(
        b".comment",
        elf::SHT_PROGBITS,
        merge_strings,
        Synthetic::Comment,
        comment_len,
        1,
    );
    if let Some(c) = s.out.iter_mut().find(|o| o.name == b".comment") {
        c.entsize = 1;
    }
    if !gnu_property.is_empty() {
        s.add_synthetic(
            gnu_property::SECTION,
            elf::SHT_NOTE,
            a,
            Synthetic::GnuProperty,
            gnu_property.len() as u64,
            8,
        );
    }
    if let Some(size) = write::build_id_note_size(&args.build_id) {
        s.add_synthetic(
            b".note.gnu.build-id",
            elf::SHT_NOTE,
            a,
            Synthetic::BuildIdNote,
            size,
            4,
        );
    }
    if !got.iplt.is_empty() {
        // A dynamic output's IRELATIVE records go with its JUMP_SLOTs
        // (`add_dynamic_sections`).
        if !got.mode.is_some_and(|m| m.is_dynamic()) {
            s.add_synthetic(
                b".rela.plt",
                elf::SHT_RELA,
                a | u64::from(elf::SHF_INFO_LINK),
                Synthetic::RelaIplt,
                got.rela_iplt_size(),
                8,
            );
        }
        s.add_synthetic(
            b".plt",
            elf::SHT_PROGBITS,
            a | x,
            Synthetic::Iplt,
            got.iplt_size(),
            16,
        );
    }
    if !got.got.is_empty() {
        s.add_synthetic(
            b".got",
            elf::SHT_PROGBITS,
            a | w,
            Synthetic::Got,
            got.got_size(),
            8,
        );
    }
    if got.gotplt_needed() || got.mode.is_some_and(|m| m.is_dynamic()) {
        s.add_synthetic(
            b".got.plt",
            elf::SHT_PROGBITS,
            a | w,
            Synthetic::GotPlt,
            got.gotplt_size(),
            8,
        );
    }
    if commons.size > 0 {
        s.add_synthetic(
            b".bss",
            elf::SHT_NOBITS,
            a | w,
            Synthetic::Commons,
            commons.size,
            commons.align,
        );
    }
    if s.will_have_eh_frame_hdr() {
        let fdes: u64 = s
            .find(b".eh_frame")
            .map(|o| {
                o.chunks
                    .iter()
                    .filter_map(|c| c.eh.as_ref())
                    .map(|e| e.records.iter().filter(|r| r.is_fde()).count() as u64)
                    .sum()
            })
            .unwrap_or(0);
        s.add_synthetic(
            b".eh_frame_hdr",
            elf::SHT_PROGBITS,
            a,
            Synthetic::EhFrameHdr,
            ehframe::hdr_size(fdes),
            4,
        );
    }
}

/// The tables of a dynamic output, each sized from the plan's counts:
/// `.rela.dyn` gets one chunk per unit, so its units are written in
/// parallel like input sections.
fn add_dynamic_sections(s: &mut Sections, got: &got::GotPlan, plan: &DynPlan, ibt_plt: bool) {
    use crate::write::dynamic::plan::{DYNSYM_SIZE, RELA_SIZE};
    let a = u64::from(elf::SHF_ALLOC);
    let w = u64::from(elf::SHF_WRITE);
    let x = u64::from(elf::SHF_EXECINSTR);
    #[allow(clippy::too_many_arguments)]
    fn put(
        s: &mut Sections,
        name: &[u8],
        ty: u32,
        flags: u64,
        kind: Synthetic,
        size: u64,
        align: u64,
        entsize: u64,
    ) {
        s.add_synthetic(name, ty, flags, kind, size, align);
        if let Some(o) = s.out.iter_mut().find(|o| o.name == name) {
            o.entsize = entsize;
        }
    }
    let mut add = |name: &[u8], ty, flags, kind, size, align, entsize| {
        put(s, name, ty, flags, kind, size, align, entsize)
    };
    add(
        b".interp",
        elf::SHT_PROGBITS,
        a,
        Synthetic::Dyn(DynTable::Interp),
        plan.interp.len() as u64,
        1,
        0,
    );
    if plan.sysv_hash.is_some() {
        add(
            b".hash",
            elf::SHT_HASH,
            a,
            Synthetic::Dyn(DynTable::SysvHash),
            plan.sysv_hash_size(),
            8,
            4,
        );
    }
    if let Some((shape, _)) = &plan.gnu_hash {
        add(
            b".gnu.hash",
            elf::SHT_GNU_HASH,
            a,
            Synthetic::Dyn(DynTable::GnuHash),
            shape.size(),
            8,
            0,
        );
    }
    // .dynsym, its names in .dynstr and .gnu.version in shards, a chunk each.
    for k in 0..plan.shards() {
        let n = plan.shard_entries(k);
        let kind = Synthetic::Dyn(DynTable::DynSym(k as u32));
        add(
            b".dynsym",
            elf::SHT_DYNSYM,
            a,
            kind,
            n * DYNSYM_SIZE,
            8,
            DYNSYM_SIZE,
        );
    }
    let head = plan.dynstr.len() as u64;
    add(
        b".dynstr",
        elf::SHT_STRTAB,
        a,
        Synthetic::Dyn(DynTable::DynStr),
        head,
        1,
        0,
    );
    for (k, &bytes) in plan.shard_names.iter().enumerate() {
        let kind = Synthetic::Dyn(DynTable::DynStrNames(k as u32));
        add(b".dynstr", elf::SHT_STRTAB, a, kind, bytes, 1, 0);
    }
    if plan.has_versym() {
        for k in 0..plan.shards() {
            let n = plan.shard_entries(k);
            let kind = Synthetic::Dyn(DynTable::VerSym(k as u32));
            add(b".gnu.version", elf::SHT_GNU_VERSYM, a, kind, 2 * n, 2, 2);
        }
        add(
            b".gnu.version_r",
            elf::SHT_GNU_VERNEED,
            a,
            Synthetic::Dyn(DynTable::VerNeed),
            plan.verneed.len() as u64,
            8,
            0,
        );
    }
    if plan.verdef_count > 0 {
        add(
            b".gnu.version_d",
            elf::SHT_GNU_VERDEF,
            a,
            Synthetic::Dyn(DynTable::VerDef),
            plan.verdef.len() as u64,
            8,
            0,
        );
    }
    for (u, &(_, n)) in plan.rela_units.iter().enumerate() {
        add(
            b".rela.dyn",
            elf::SHT_RELA,
            a,
            Synthetic::Dyn(DynTable::RelaDyn(u as u32)),
            n * RELA_SIZE,
            8,
            RELA_SIZE,
        );
    }
    if plan.relr_count > 0 {
        // Sized once the addresses are known (`Sections::resize_synthetic`).
        add(
            b".relr.dyn",
            elf::SHT_RELR,
            a,
            Synthetic::Dyn(DynTable::Relr),
            8,
            8,
            8,
        );
    }
    let plt_records = DynPlan::rela_plt_records(got);
    if plt_records > 0 {
        let flags = a | u64::from(elf::SHF_INFO_LINK);
        add(
            b".rela.plt",
            elf::SHT_RELA,
            flags,
            Synthetic::Dyn(DynTable::RelaPlt),
            plt_records * RELA_SIZE,
            8,
            RELA_SIZE,
        );
    }
    if !got.plt.is_empty() {
        let size = got::PLT_ENTRY * (1 + got.plt.len() as u64);
        add(
            b".plt",
            elf::SHT_PROGBITS,
            a | x,
            Synthetic::Dyn(DynTable::Plt),
            size,
            16,
            got::PLT_ENTRY,
        );
        if ibt_plt {
            // The IBT form: calls go to `.plt.sec`, which starts with
            // `endbr64` (GNU ld's layout under `-z ibt` or IBT inputs).
            let size = got::PLT_ENTRY * got.plt.len() as u64;
            let kind = Synthetic::Dyn(DynTable::PltSec);
            add(
                b".plt.sec",
                elf::SHT_PROGBITS,
                a | x,
                kind,
                size,
                16,
                got::PLT_ENTRY,
            );
        }
    }
    if !got.plt_got.is_empty() {
        let entry = if ibt_plt { 16 } else { 8 };
        let size = entry * got.plt_got.len() as u64;
        let kind = Synthetic::Dyn(DynTable::PltGot);
        add(
            b".plt.got",
            elf::SHT_PROGBITS,
            a | x,
            kind,
            size,
            entry,
            entry,
        );
    }
    let dynamic_size = 16 * plan.dynamic.len() as u64;
    add(
        b".dynamic",
        elf::SHT_DYNAMIC,
        a | w,
        Synthetic::Dyn(DynTable::Dynamic),
        dynamic_size,
        8,
        16,
    );
    if !got.copies.is_empty() {
        add(
            b".bss",
            elf::SHT_NOBITS,
            a | w,
            Synthetic::Dyn(DynTable::Copies),
            got.copy_size,
            got.copy_align,
            0,
        );
    }
    // The IFUNC stubs come after the lazy entries in the same section.
    if let Some(o) = s.out.iter_mut().find(|o| o.name == b".plt") {
        o.chunks.sort_by_key(|c| {
            c.kind != crate::layout::ChunkKind::Synthetic(Synthetic::Dyn(DynTable::Plt))
        });
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
