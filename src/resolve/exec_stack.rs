//! `PT_GNU_STACK` in executables, as GNU ld 2.40 decides it (bfd's
//! `bfd_elf_size_dynamic_sections`).
//!
//! `-z execstack` and `-z noexecstack` decide alone. Otherwise the inputs
//! do, in load order: a `.note.GNU-stack` marked executable makes the stack
//! executable and ends the walk; a file with no `.note.GNU-stack` at all
//! makes it executable too (the old default GNU ld keeps, with a warning,
//! where lld and mold make it non-executable). The segment is written only
//! when some input has the note or `-z stack-size` gives a size: a link of
//! bare assembly gets none, and the kernel's default applies. When the
//! stack comes out executable, GNU ld's warning names the file responsible:
//! the one with the executable note, or else the last one without a note
//! (`--no-warn-execstack` silences it). Under `-r` the same decision marks
//! the merged `.note.GNU-stack` executable or not, and warns alike.

use crate::args::{Args, StackChoice};
use crate::resolve::Resolution;

/// What the executable gets.
pub struct StackPlan {
    /// `Some(executable)`: a `PT_GNU_STACK`, executable or not.
    pub segment: Option<bool>,
    /// GNU ld's warnings about it.
    pub warnings: Vec<String>,
}

pub fn plan(args: &Args, res: &Resolution) -> StackPlan {
    match args.stack {
        StackChoice::Executable => {
            // Asked for: a warning only under `--warn-execstack`.
            let warnings = if args.warn_execstack == Some(true) {
                vec!["rivet: warning: enabling an executable stack because of -z execstack command line option".to_string()]
            } else {
                Vec::new()
            };
            return StackPlan {
                segment: Some(true),
                warnings,
            };
        }
        StackChoice::NonExecutable => {
            return StackPlan {
                segment: Some(false),
                warnings: Vec::new(),
            }
        }
        StackChoice::FromInputs => {}
    }
    let mut has_note = false;
    let mut exec = false;
    let mut executable_note = None;
    let mut without_note = None;
    // Files with no sections take no part (bfd skips them).
    for obj in res.objects.iter().filter(|o| o.sections.len() > 1) {
        if obj.has_stack_note {
            has_note = true;
            if obj.wants_exec_stack {
                exec = true;
                executable_note = Some(obj);
                break;
            }
        } else {
            exec = true;
            without_note = Some(obj);
        }
    }
    let segment = (has_note || args.gnu_property.stack_size > 0).then_some(exec);
    let mut warnings = Vec::new();
    if segment == Some(true) && args.warn_execstack != Some(false) {
        if let Some(obj) = executable_note {
            warnings.push(format!(
                "rivet: warning: {}: requires executable stack (because the .note.GNU-stack section is executable)",
                obj.name
            ));
        } else if let Some(obj) = without_note {
            warnings.push(format!(
                "rivet: warning: {}: missing .note.GNU-stack section implies executable stack",
                obj.name
            ));
            warnings.push(
                "rivet: NOTE: this is GNU ld's behaviour, deprecated there: give the file a .note.GNU-stack section (as compilers do), or link with -z noexecstack"
                    .to_string(),
            );
        }
    }
    StackPlan { segment, warnings }
}

/// Prints the plan's warnings. GNU ld prints these even under `-w` (they
/// come from bfd, not from ld's own warning calls), and `--fatal-warnings`
/// makes them fatal.
pub fn report(args: &Args, plan: &StackPlan) -> crate::error::Result<()> {
    for w in &plan.warnings {
        eprintln!("{w}");
    }
    if args.fatal_warnings && !plan.warnings.is_empty() {
        crate::bail!("rivet: warnings are fatal (--fatal-warnings)");
    }
    Ok(())
}
