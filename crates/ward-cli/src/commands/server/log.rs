//! Where `ward server`'s log lines go: stderr, with the access log
//! written in batches.
//!
//! One access line per request (target `ward::access`) written with its own
//! `write(2)` to stderr was the largest part of a no-op request's cost
//! (`docs/PERFORMANCE.md`). Access lines are appended to a buffer in memory
//! instead, and the buffer is written to stderr:
//!
//! - by a background thread, at most [`FLUSH_EVERY`] after the first line
//!   entered an empty buffer (so a line reaches stderr that late at most,
//!   and an idle server wakes no thread);
//! - at once when it holds [`HIGH_WATER`] bytes, so memory stays bounded
//!   whatever the request rate;
//! - before any other line, which is written at once: stderr keeps the order
//!   in which lines were logged, and a warning or an error is never held;
//! - when the server stops ([`Flusher`], dropped at the end of `ward
//!   server`), so no line is lost on a clean shutdown.
//!
//! A process that is killed (SIGKILL) or aborts loses what was buffered:
//! at most [`FLUSH_EVERY`] of access lines. The audit trail does not travel
//! this way (`docs/audit.md`).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;
use ward_server::observe::ACCESS_TARGET;

/// How late an access line reaches stderr at most.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// How many bytes of access lines are held before they are written at once.
pub const HIGH_WATER: usize = 64 * 1024;

/// The lines waiting to be written, and whether the flusher must stop.
#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    stop: bool,
}

struct Shared<W> {
    pending: Mutex<Pending>,
    /// Signals the flusher: a line entered an empty buffer, or stop.
    wake: Condvar,
    /// The destination, held while writing so that batches and direct lines
    /// reach it in order.
    out: Mutex<W>,
    every: Duration,
    /// Whether access lines are held (a flusher thread runs).
    holding: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<W: Write> Shared<W> {
    /// Writes what is pending, under the destination's lock (held by the
    /// caller as `out`).
    fn drain(&self, out: &mut W) {
        let lines = std::mem::take(&mut lock(&self.pending).lines);
        if !lines.is_empty() {
            // Nowhere to report a failed write of the log itself.
            let _ = out.write_all(&lines);
        }
    }

    fn flush(&self) {
        let mut out = lock(&self.out);
        self.drain(&mut out);
        let _ = out.flush();
    }

    fn buffer(&self, line: &[u8]) {
        let full = {
            let mut pending = lock(&self.pending);
            if pending.lines.is_empty() {
                self.wake.notify_one();
            }
            pending.lines.extend_from_slice(line);
            pending.lines.len() >= HIGH_WATER
        };
        if full {
            self.flush();
        }
    }

    fn direct(&self, line: &[u8]) -> io::Result<()> {
        let mut out = lock(&self.out);
        self.drain(&mut out);
        out.write_all(line)
    }

    /// The flusher thread: waits for a first line, lets more gather for
    /// `every`, writes them; until told to stop, then writes what is left.
    fn run(&self) {
        loop {
            let mut pending = lock(&self.pending);
            while pending.lines.is_empty() && !pending.stop {
                pending = self.wake.wait(pending).unwrap_or_else(|p| p.into_inner());
            }
            if !pending.stop {
                pending = self.wake.wait_timeout(pending, self.every).unwrap_or_else(|p| p.into_inner()).0;
            }
            let stop = pending.stop;
            drop(pending);
            self.flush();
            if stop {
                return;
            }
        }
    }
}

/// The server log's writer (a `MakeWriter` for `tracing_subscriber::fmt`).
pub struct ServerLog<W = io::Stderr> {
    shared: Arc<Shared<W>>,
}

impl<W> Clone for ServerLog<W> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

/// Stops the flusher and writes every buffered line when dropped.
pub struct Flusher<W: Write + Send + 'static = io::Stderr> {
    shared: Arc<Shared<W>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerLog {
    /// A writer to stderr and the guard that flushes it.
    pub fn stderr() -> (Self, Flusher) {
        Self::to(io::stderr(), FLUSH_EVERY)
    }
}

impl<W: Write + Send + 'static> ServerLog<W> {
    /// A writer to `out` whose access lines wait at most `every`.
    pub fn to(out: W, every: Duration) -> (Self, Flusher<W>) {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            out: Mutex::new(out),
            every,
            holding: AtomicBool::new(false),
        });
        let flusher = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("ward-log".into()).spawn(move || flusher.run()).ok();
        // Without a flusher thread, every line is written at once.
        shared.holding.store(thread.is_some(), Ordering::Relaxed);
        (Self { shared: Arc::clone(&shared) }, Flusher { shared, thread })
    }
}

impl<W: Write + Send + 'static> Drop for Flusher<W> {
    fn drop(&mut self) {
        lock(&self.shared.pending).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.flush();
    }
}

/// One line's writer: buffered for the access log, direct otherwise.
pub struct Line<'a, W> {
    shared: &'a Shared<W>,
    buffered: bool,
}

impl<W: Write> Write for Line<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.buffered {
            self.shared.buffer(buf);
            Ok(())
        } else {
            self.shared.direct(buf)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a, W: Write + Send + 'static> MakeWriter<'a> for ServerLog<W> {
    type Writer = Line<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        Line { shared: &self.shared, buffered: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        let buffered = meta.target() == ACCESS_TARGET && self.shared.holding.load(Ordering::Relaxed);
        Line { shared: &self.shared, buffered }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A destination the test can read while the log holds it.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<u8>>>);

    impl Write for Seen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seen {
        fn text(&self) -> String {
            String::from_utf8_lossy(&lock(&self.0)).into_owned()
        }
    }

    fn logging<T>(log: &ServerLog<Seen>, f: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::fmt().with_writer(log.clone()).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, f)
    }

    #[test]
    fn access_lines_wait_and_every_other_line_is_written_at_once_after_them() {
        let seen = Seen::default();
        let (log, _flusher) = ServerLog::to(seen.clone(), Duration::from_secs(3600));
        logging(&log, || tracing::info!(target: "ward::access", "request one"));
        assert_eq!(seen.text(), "", "an access line is held");
        logging(&log, || tracing::warn!("something else"));
        let text = seen.text();
        let (first, second) = (text.find("request one"), text.find("something else"));
        assert!(first.is_some() && second.is_some() && first < second, "in the order logged: {text}");
    }

    #[test]
    fn held_lines_are_written_within_the_interval_and_when_the_flusher_is_dropped() {
        let seen = Seen::default();
        let (log, flusher) = ServerLog::to(seen.clone(), Duration::from_millis(20));
        logging(&log, || tracing::info!(target: "ward::access", "soon"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !seen.text().contains("soon") {
            assert!(std::time::Instant::now() < deadline, "the flusher never wrote the line");
            std::thread::sleep(Duration::from_millis(5));
        }
        let seen = Seen::default();
        let (log, flusher_2) = ServerLog::to(seen.clone(), Duration::from_secs(3600));
        logging(&log, || tracing::info!(target: "ward::access", "at the end"));
        drop(flusher_2);
        assert!(seen.text().contains("at the end"), "a stop writes what is held");
        drop(flusher);
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting() {
        let seen = Seen::default();
        let (log, _flusher) = ServerLog::to(seen.clone(), Duration::from_secs(3600));
        let long = "x".repeat(1000);
        logging(&log, || {
            for _ in 0..(HIGH_WATER / 1000 + 1) {
                tracing::info!(target: "ward::access", "{long}");
            }
        });
        assert!(seen.text().len() >= HIGH_WATER, "memory is bounded");
    }
}
