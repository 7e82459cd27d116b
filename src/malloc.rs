//! glibc malloc settings for a long-lived process with a large, churning heap: fewer
//! arenas, a fixed mmap threshold, and freed pages handed back to the OS when the
//! resident set has grown since the last time. No-ops off Linux/glibc.

use std::time::Duration;

/// How often the resident set is checked for a trim.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// Growth of anonymous resident memory since the last trim that earns another one: a
/// twentieth, and at least 1 MiB.
const GROWTH_BEFORE_TRIM: (u64, u64) = (20, 1024 * 1024);

/// Caps the arenas and fixes the mmap threshold; call before any other thread starts.
///
/// By default glibc gives each new thread its own arena, up to eight per core, and
/// tokio's workers and blocking threads each grew one that kept freed memory resident
/// (BENCHMARKS.md note 16: peak RSS with 50,000 live objects 452 -> 415 MiB). Large blocks
/// keep a fixed mmap threshold, so a freed list page goes back to the OS instead of
/// raising the threshold for good.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    // SAFETY: mallopt only sets allocator parameters; it is called before any other
    // thread exists. A refused setting (return 0) leaves glibc's default, which is fine.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Caps the arenas and fixes the mmap threshold (nothing to do off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// Starts a thread that, every [`CHECK_EVERY`], gives freed heap pages back to the OS if
/// the anonymous resident set grew since the last trim.
///
/// glibc returns free pages only from the top of each arena; under constant churn a few
/// live blocks near the top pin the rest, and the resident set of `rekon run` and the TUI
/// crept about 1 MiB a minute while the live heap stayed flat (BENCHMARKS.md "Soak").
/// `malloc_trim(0)` releases free pages anywhere, but walks every free block with the
/// arena locked: well under a millisecond on the soak's heap of a few MB, about 100 ms
/// on 300 MB (50,000 live objects), a stall no allocation should wait on every 30 s when
/// nothing grew. Hence only after growth.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim_when_grown() {
    let spawned = std::thread::Builder::new()
        .name("rekon-trim".into())
        .spawn(|| {
            let mut policy = TrimPolicy::default();
            loop {
                std::thread::sleep(CHECK_EVERY);
                let Some(now) = anon_resident_bytes() else {
                    return;
                };
                if policy.should_trim(now) {
                    // SAFETY: malloc_trim takes each arena's lock itself; it only returns
                    // pages malloc already holds as free.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                    policy.trimmed(anon_resident_bytes().unwrap_or(now));
                }
            }
        });
    // Without the thread memory is only kept longer, so a failure to spawn is not an error.
    drop(spawned);
}

/// Gives freed heap pages back now and then (nothing to do off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim_when_grown() {}

/// This process's anonymous resident memory (resident minus file-backed pages), bytes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn anon_resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut fields = statm.split_whitespace().skip(1);
    let resident: u64 = fields.next()?.parse().ok()?;
    let shared: u64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(resident.saturating_sub(shared) * u64::try_from(page).ok()?)
}

/// When to trim: after the anonymous resident set grew past its size after the last trim.
#[derive(Debug, Default)]
pub struct TrimPolicy {
    /// Anonymous resident bytes right after the last trim (or the lowest seen since).
    baseline: Option<u64>,
}

impl TrimPolicy {
    /// Whether memory at `now` bytes has grown enough since the last trim to trim again.
    pub fn should_trim(&mut self, now: u64) -> bool {
        let Some(base) = self.baseline else {
            return true;
        };
        if now < base {
            // Memory went back by itself: measure later growth from here.
            self.baseline = Some(now);
            return false;
        }
        let (fraction, floor) = GROWTH_BEFORE_TRIM;
        now - base >= (base / fraction).max(floor)
    }

    /// Records the anonymous resident bytes right after a trim.
    pub fn trimmed(&mut self, after: u64) {
        self.baseline = Some(after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn trims_first_then_only_after_growth() {
        let mut p = TrimPolicy::default();
        assert!(p.should_trim(300 * MIB), "the first check trims");
        p.trimmed(290 * MIB);
        // Flat or a little up: a big heap is not walked for nothing.
        assert!(!p.should_trim(290 * MIB));
        assert!(!p.should_trim(300 * MIB));
        // A twentieth more.
        assert!(p.should_trim(305 * MIB));
    }

    #[test]
    fn small_heaps_wait_for_a_mebibyte_and_shrinking_lowers_the_bar() {
        let mut p = TrimPolicy::default();
        p.trimmed(8 * MIB);
        assert!(!p.should_trim(8 * MIB + MIB / 2));
        assert!(p.should_trim(9 * MIB));
        p.trimmed(9 * MIB);
        assert!(!p.should_trim(6 * MIB));
        assert!(p.should_trim(7 * MIB));
    }
}
