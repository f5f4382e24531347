//! One run of a delivery program (sendmail, an SMS gateway) for one attempt: the message
//! on its standard input, at most `timeout` of run time, and its exit status read the
//! sysexits(3) way.
//!
//! The program runs in a process group of its own; when it overruns, the whole group is
//! killed, so a gateway script cannot leave a hanging child behind. Exit 0 is delivered;
//! 65 (`EX_DATAERR`) and 67 (`EX_NOUSER`) are permanent refusals, not retried; anything
//! else (another status, a signal, a program that cannot be started) is transient.
//! Blocking: the courier runs it on the blocking pool.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::SendError;

/// Exit statuses that say the message itself cannot be delivered (sysexits.h):
/// 65 `EX_DATAERR` (bad number or text), 67 `EX_NOUSER` (no such recipient).
pub const PERMANENT_EXIT_CODES: [i32; 2] = [65, 67];

/// How much of the program's standard error is kept for `authctl outbox`.
const STDERR_KEPT: usize = 200;

/// Run `argv` (program first) with `input` on its standard input; see the module doc.
pub fn run(argv: &[String], input: &[u8], timeout: Duration) -> Result<(), SendError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| SendError::Transient("no program configured".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| SendError::Transient(format!("cannot run {program}: {e}")))?;
    // Writing and reading on threads of their own: a program that neither reads its
    // input nor exits cannot hold the attempt past the deadline.
    if let Some(mut stdin) = child.stdin.take() {
        let input = Zeroizing::new(input.to_vec());
        std::thread::spawn(move || {
            // A program that exits without reading is judged by its exit status.
            let _ = stdin.write_all(&input);
        });
    }
    let (sender, stderr) = mpsc::channel();
    if let Some(mut pipe) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let _ = pipe.by_ref().take(4096).read_to_end(&mut kept);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            let _ = sender.send(kept);
        });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Err(SendError::Transient(format!(
                    "{program} did not finish within {}; killed",
                    humantime::format_duration(timeout)
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_group(child.id());
                let _ = child.wait();
                return Err(SendError::Transient(format!("waiting for {program}: {e}")));
            }
        }
    };
    if status.success() {
        return Ok(());
    }
    // Whatever it wrote before exiting; a child it left running may hold the pipe open.
    let text = stderr
        .recv_timeout(Duration::from_secs(1))
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let text: String = text.chars().take(STDERR_KEPT).collect();
    Err(classify(program, status, &text))
}

fn classify(program: &str, status: ExitStatus, stderr: &str) -> SendError {
    match status.code() {
        Some(code) if PERMANENT_EXIT_CODES.contains(&code) => SendError::Permanent(format!(
            "{program} refused the message ({status}, permanent): {stderr}"
        )),
        _ => SendError::Transient(format!("{program} failed ({status}): {stderr}")),
    }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()]
    }

    #[test]
    fn the_program_gets_its_arguments_and_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let mut argv = sh(&format!("cat > {0}; echo \"$1\" >> {0}", out.display()));
        argv.push("+4930901820".into());
        run(&argv, b"code 123456", Duration::from_secs(10)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "code 123456+4930901820\n"
        );
    }

    #[test]
    fn exit_statuses_65_and_67_are_permanent_the_rest_transient() {
        let t = Duration::from_secs(10);
        for code in [65, 67] {
            let e = run(&sh(&format!("echo no >&2; exit {code}")), b"", t).unwrap_err();
            assert!(
                matches!(&e, SendError::Permanent(m) if m.contains("no")),
                "{e:?}"
            );
        }
        for code in [1, 64, 66, 69, 75] {
            let e = run(&sh(&format!("exit {code}")), b"", t).unwrap_err();
            assert!(matches!(e, SendError::Transient(_)), "{code}: {e:?}");
        }
        let missing = run(&["/nonexistent/gateway".into()], b"", t).unwrap_err();
        assert!(matches!(missing, SendError::Transient(_)));
    }

    #[test]
    fn an_overrunning_program_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 600 & echo $! > {}; wait", pid_file.display());
        // Input larger than a pipe buffer, never read: the attempt still ends on time.
        let input = vec![b'x'; 1 << 20];
        let e = run(&sh(&script), &input, Duration::from_millis(500)).unwrap_err();
        assert!(
            matches!(&e, SendError::Transient(m) if m.contains("did not finish within 500ms")),
            "{e:?}"
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
        // The sleep was killed (it may linger as a zombie until reaped by init).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty()
                || stat
                    .rsplit(')')
                    .next()
                    .unwrap()
                    .trim_start()
                    .starts_with('Z')
            {
                break;
            }
            assert!(Instant::now() < deadline, "the child survived: {stat}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
