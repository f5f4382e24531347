//! What a measured run reports: throughput, latency percentiles (overall and per kind of
//! request), errors and the daemon's peak RSS, as text or JSON.

use serde::Serialize;

use super::measure::Measured;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// VmHWM of the daemon (`None` for store-ceiling, which has none).
    pub daemon_peak_rss_kib: Option<u64>,
    /// CPU µs per request of the daemons together, over the timed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon_cpu_us: Option<f64>,
    /// CPU µs per request of `--cpu-pid` and its children, over the timed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watched_cpu_us: Option<f64>,
    /// verify-password only: hash_workers x (1 / one verify), measured in the same run.
    pub physical_limit_per_sec: Option<f64>,
    pub hash_workers: u32,
    /// verify-names only: the latencies of each kind of request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_kind: Vec<KindLatency>,
    /// verify-totp only: client time spent waiting for the next time step because every
    /// account of the client had used its codes (more --accounts avoid it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waited_for_codes_secs: Option<f64>,
    /// store-ceiling only: flushes made (each released every writer queued before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flushes: Option<u64>,
}

/// Latency percentiles of one kind of request in a scenario that interleaves kinds.
#[derive(Debug, Clone, Serialize)]
pub struct KindLatency {
    pub kind: &'static str,
    pub requests: u64,
    pub p50_us: u64,
    pub p90_us: u64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The peak RSS of process `pid` (VmHWM), if it runs on this host.
pub fn peak_rss_kib(pid: Option<i32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Latencies of request numbers i with `i % kinds.len() == k`, for each kind k; empty
/// when the scenario has one kind.
fn by_kind(measured: &Measured, kinds: &[&'static str]) -> Vec<KindLatency> {
    if kinds.len() < 2 {
        return Vec::new();
    }
    kinds
        .iter()
        .enumerate()
        .map(|(k, &kind)| {
            let mut these: Vec<u64> = measured
                .latencies
                .iter()
                .filter(|(i, _)| *i % kinds.len() as u64 == k as u64)
                .map(|&(_, us)| us)
                .collect();
            these.sort_unstable();
            KindLatency {
                kind,
                requests: these.len() as u64,
                p50_us: percentile(&these, 50.0),
                p90_us: percentile(&these, 90.0),
            }
        })
        .collect()
}

impl Report {
    /// The figures of `measured`, a run of `scenario` with request kinds `kinds` (request
    /// i is of kind i % len); the daemon-specific fields are left for the caller.
    pub(super) fn new(
        scenario: super::Scenario,
        clients: usize,
        measured: &Measured,
        kinds: &[&'static str],
    ) -> Report {
        let mut latencies: Vec<u64> = measured.latencies.iter().map(|&(_, us)| us).collect();
        latencies.sort_unstable();
        let requests = latencies.len() as u64;
        Report {
            scenario: format!("{scenario:?}"),
            clients,
            requests,
            errors: measured.errors,
            seconds: measured.seconds,
            requests_per_sec: requests as f64 / measured.seconds.max(1e-9),
            p50_us: percentile(&latencies, 50.0),
            p90_us: percentile(&latencies, 90.0),
            p99_us: percentile(&latencies, 99.0),
            max_us: latencies.last().copied().unwrap_or(0),
            daemon_peak_rss_kib: None,
            daemon_cpu_us: None,
            watched_cpu_us: None,
            physical_limit_per_sec: None,
            hash_workers: 0,
            by_kind: by_kind(measured, kinds),
            waited_for_codes_secs: None,
            flushes: None,
        }
    }

    pub fn to_text(&self) -> String {
        let mut t = format!(
            "scenario        {}\nclients         {}\nrequests        {} ({} errors) in {:.2} s\n\
             throughput      {:.0} requests/s\nlatency         p50 {} us, p90 {} us, p99 {} us, max {} us",
            self.scenario,
            self.clients,
            self.requests,
            self.errors,
            self.seconds,
            self.requests_per_sec,
            self.p50_us,
            self.p90_us,
            self.p99_us,
            self.max_us,
        );
        match self.flushes {
            Some(flushes) => t.push_str(&format!(
                "\nflushes         {flushes} ({:.1} writes per flush)",
                self.requests as f64 / flushes.max(1) as f64
            )),
            None => t.push_str(&format!(
                "\ndaemon peak RSS {}\nhash workers    {}",
                self.daemon_peak_rss_kib
                    .map_or("unknown (not on this host?)".into(), |k| format!("{k} KiB")),
                self.hash_workers,
            )),
        }
        if let Some(limit) = self.physical_limit_per_sec {
            t.push_str(&format!(
                "\nphysical limit  {limit:.1} verifies/s (hash_workers / one verify); reached {:.1} %",
                100.0 * self.requests_per_sec / limit
            ));
        }
        if let Some(us) = self.daemon_cpu_us {
            t.push_str(&format!("\ndaemon CPU      {us:.0} us per request"));
        }
        if let Some(us) = self.watched_cpu_us {
            t.push_str(&format!(
                "\n--cpu-pid CPU   {us:.0} us per request (with children)"
            ));
        }
        if let Some(waited) = self.waited_for_codes_secs.filter(|w| *w > 0.0) {
            t.push_str(&format!(
                "\nwaited          {waited:.2} client-seconds for fresh codes: too few --accounts"
            ));
        }
        for k in &self.by_kind {
            t.push_str(&format!(
                "\n{:<15} p50 {} us, p90 {} us ({} requests)",
                k.kind, k.p50_us, k.p90_us, k.requests
            ));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 51);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&sorted, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
