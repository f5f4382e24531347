//! How the daemons (authd, authd-web) log, and when a terminal gets colour.
//!
//! - [`colour_wanted`]: ANSI colour only on a terminal, and never when `NO_COLOR` is set
//!   to anything but the empty string (<https://no-color.org>). authctl's terminal QR code
//!   asks the same.
//! - `init` (the `logging` feature): `tracing` to standard error. When standard error is
//!   the journal (systemd sets `JOURNAL_STREAM` to its device and inode), each line
//!   starts with its syslog priority (`<3>` error, `<4>` warning, `<6>` info, `<7>`
//!   debug) and carries no timestamp of its own: journald keeps its own, and
//!   `journalctl -p warning` then selects by level (sd-daemon(3)).

/// Colour for a stream that is (or is not) a terminal.
#[must_use]
pub fn colour_wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Is standard error the journal stream systemd connected (`JOURNAL_STREAM=DEV:INODE`)?
#[must_use]
pub fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let Ok(stat) = nix::sys::stat::fstat(std::io::stderr()) else {
        return false;
    };
    dev.parse() == Ok(stat.st_dev) && ino.parse() == Ok(stat.st_ino)
}

#[cfg(feature = "logging")]
pub use init::init;

#[cfg(feature = "logging")]
mod init {
    use std::fmt;

    use tracing::{Event, Level, Subscriber};
    use tracing_subscriber::fmt::format::Writer;
    use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::EnvFilter;

    /// Install the global subscriber: `RUST_LOG` or `info`, to standard error, in the
    /// journal's form when standard error is the journal (see the module).
    pub fn init() {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        if super::stderr_is_journal() {
            builder.event_format(Journal).init();
        } else {
            let ansi = super::colour_wanted(std::io::IsTerminal::is_terminal(&std::io::stderr()));
            builder.with_ansi(ansi).init();
        }
    }

    /// `<PRIORITY>target: message fields`, one line per event.
    struct Journal;

    impl<S, N> FormatEvent<S, N> for Journal
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            ctx: &FmtContext<'_, S, N>,
            mut writer: Writer<'_>,
            event: &Event<'_>,
        ) -> fmt::Result {
            let meta = event.metadata();
            let priority = match *meta.level() {
                Level::ERROR => 3,
                Level::WARN => 4,
                Level::INFO => 6,
                Level::DEBUG | Level::TRACE => 7,
            };
            write!(writer, "<{priority}>{}: ", meta.target())?;
            ctx.field_format().format_fields(writer.by_ref(), event)?;
            writeln!(writer)
        }
    }
}
