//! CPU time spent during a run, from /proc: by the daemons (every socket's peer), and by
//! one more process with its children (`--cpu-pid`, e.g. the database server's
//! postmaster, whose backends are its children), so a report can say what one request
//! cost each side.

/// Clock ticks per second of /proc's times (`sysconf(_SC_CLK_TCK)`).
fn ticks_per_sec() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100, |t| t.max(1) as u64)
}

/// CPU time (µs) of `pid`: user and system, its own and that of children it reaped.
fn process_us(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces:
    // utime, stime, cutime and cstime are the 14th to 17th of the line.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Some(ticks * 1_000_000 / ticks_per_sec())
}

/// `process_us` of `pid` and of each child it has now.
fn tree_us(pid: i32) -> Option<u64> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    let of_children: u64 = children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .filter_map(process_us)
        .sum();
    Some(process_us(pid)? + of_children)
}

/// What was used so far, to subtract from a later reading.
pub struct Reading {
    daemons: Option<u64>,
    watched: Option<u64>,
}

/// Now: the daemons' CPU (`None` if one is not on this host) and the watched tree's.
pub fn read(daemons: &[Option<i32>], watched: Option<i32>) -> Reading {
    let daemons = daemons
        .iter()
        .map(|pid| pid.and_then(process_us))
        .sum::<Option<u64>>();
    Reading {
        daemons,
        watched: watched.and_then(tree_us),
    }
}

impl Reading {
    /// CPU µs per request since `start`, for the daemons and the watched tree.
    pub fn per_request(&self, start: &Reading, requests: u64) -> (Option<f64>, Option<f64>) {
        let per = |now: Option<u64>, then: Option<u64>| {
            let used = now?.checked_sub(then?)?;
            (requests > 0).then(|| used as f64 / requests as f64)
        };
        (
            per(self.daemons, start.daemons),
            per(self.watched, start.watched),
        )
    }
}
