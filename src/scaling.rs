//! A model of how the write phase would scale past the cores a machine has
//! (DESIGN.md, "Measuring"): with RIVET_SCALING_MODEL set, every unit of
//! the write phase is timed on its own, and the phase's length on P workers
//! is estimated as the makespan of scheduling those units longest-first on
//! P workers. It is a model — it ignores memory bandwidth and page-fault
//! contention, which are what limit a 2-core machine — and says so.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

pub fn requested() -> bool {
    std::env::var_os("RIVET_SCALING_MODEL").is_some()
}

/// Longest-processing-time-first makespan of `units` on `workers` workers.
pub fn makespan(units: &[Duration], workers: usize) -> Duration {
    let mut sorted: Vec<Duration> = units.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut loads: BinaryHeap<Reverse<Duration>> = (0..workers.max(1))
        .map(|_| Reverse(Duration::ZERO))
        .collect();
    for u in sorted {
        let Reverse(least) = loads.pop().unwrap_or(Reverse(Duration::ZERO));
        loads.push(Reverse(least + u));
    }
    loads
        .into_iter()
        .map(|Reverse(l)| l)
        .max()
        .unwrap_or_default()
}

/// Prints the modelled write phase for 1..64 workers to stderr.
pub fn report(units: &[Duration]) {
    let serial: Duration = units.iter().sum();
    let largest = units.iter().max().copied().unwrap_or_default();
    eprintln!(
        "rivet: scaling model of the write phase ({} units, largest {:.2} ms; a model, not a measurement):",
        units.len(),
        largest.as_secs_f64() * 1e3
    );
    for p in [1, 2, 4, 8, 16, 32, 64] {
        let m = makespan(units, p);
        eprintln!(
            "rivet:   {p:>2} workers: {:>9.2} ms  ({:.2}x)",
            m.as_secs_f64() * 1e3,
            serial.as_secs_f64() / m.as_secs_f64().max(1e-12)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makespan_is_bounded_by_largest_unit_and_average() {
        let ms = Duration::from_millis;
        let units = [ms(10), ms(3), ms(3), ms(2), ms(2)];
        assert_eq!(makespan(&units, 1), ms(20));
        assert_eq!(makespan(&units, 2), ms(10));
        assert_eq!(makespan(&units, 8), ms(10));
        assert_eq!(makespan(&[ms(4); 8], 4), ms(8));
    }
}
