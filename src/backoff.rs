//! Exponential backoff with jitter, for every retry integ makes: an HTTP request, a failed
//! queued run, recording a run's end.

use std::time::Duration;

/// `base` doubled `doublings` times (at most 16), at most `cap`; half of it fixed and half
/// random, so that many clients (or many failed runs) do not come back in step.
pub(crate) fn jittered(base: Duration, doublings: u32, cap: Duration) -> Duration {
    let delay = base.saturating_mul(1 << doublings.min(16)).min(cap);
    let half = delay / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::jittered;

    #[test]
    fn backoff_doubles_within_its_cap_with_jitter() {
        let (base, cap) = (Duration::from_millis(500), Duration::from_secs(30));
        for doublings in 0..20 {
            let delay = jittered(base, doublings, cap);
            let full = base.saturating_mul(1 << doublings.min(16)).min(cap);
            assert!(
                delay >= full / 2 && delay <= full,
                "{doublings} doublings: {delay:?}"
            );
        }
        let waits: BTreeSet<_> = (0..20).map(|_| jittered(base, 1, cap)).collect();
        assert!(waits.len() > 1, "jitter varies the wait");
    }
}
