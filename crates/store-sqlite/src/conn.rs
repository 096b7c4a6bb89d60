//! Connections: one writer thread that commits concurrent jobs together, and a reader pool.
//!
//! Group commit: the writer takes every job waiting in its queue, runs each inside its own
//! SAVEPOINT of one `BEGIN IMMEDIATE` transaction, and commits once. A job that fails rolls
//! back to its savepoint alone; each caller hears back only after the COMMIT (fsync with
//! `synchronous=FULL`) succeeded, so an acknowledged write is durable. One fsync then serves a
//! whole batch instead of one request.
//!
//! Checkpoints run on their own thread and connection, never on the writer's path: SQLite's
//! automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so at a million
//! rows one batch in many paid for copying and fsyncing scattered database pages (the S4 tail).
//! The checkpointer runs `PASSIVE` checkpoints (they block neither the writer nor readers) as
//! the WAL grows; once one has copied every frame, the writer starts the WAL over.

use partnerd_store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

/// Jobs taken into one transaction at most; bounds the time the write lock is held.
const MAX_BATCH: usize = 512;

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs a use case on the writer connection; `None` means the transaction could not begin.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;

/// SQLite keeps allocation statistics behind a global mutex unless told not to; partnerd never
/// reads them. Must run before SQLite initialises, so before the first connection.
fn configure_sqlite_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: called once, before any connection exists in this process; sqlite3_config is
        // documented as safe to call before sqlite3_initialize. An error (already initialised)
        // only means the default stays.
        #[allow(unsafe_code)] // the one audited block: see SAFETY above
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::os::raw::c_int);
        }
    });
}

pub(crate) fn open_connection(path: &Path, read_only: bool) -> StoreResult<Connection> {
    configure_sqlite_once();
    let mut conn =
        Connection::open(path).map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    // WAL lets readers run beside the writer; FULL makes every commit durable before it is
    // acknowledged; the busy handler covers the checkpointer and other processes (the CLI)
    // holding the write lock.
    conn.busy_handler(Some(retry_every_millisecond(10_000))).map_err(backend)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!("SQLite refused WAL mode (got {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(backend)?;
    if read_only {
        // No mmap: its gain measured marginal, and mapped pages count as the process's memory.
        conn.execute_batch("PRAGMA query_only = ON;").map_err(backend)?;
    }
    // Every statement a use case runs stays prepared (a write runs a dozen; there are ~300).
    conn.set_prepared_statement_cache_capacity(512);
    // The query planner's stability guarantee: a plan never depends on the values bound. Without
    // it SQLite re-prepares a statement whenever a parameter it looked at while planning (a
    // LIMIT, an equality on an indexed column) is bound anew, and the statement cache clears
    // every binding when a statement goes back: measured as 8-12 % of the CPU of list pages and
    // writes at 1M rows (`sqlite3Reprepare` in bench/results/profiles).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(backend)?;
    Ok(conn)
}

/// A busy handler that tries again every millisecond, `tries` times (every connection: 10 s;
/// the checkpointer gives up sooner). SQLite's own (`busy_timeout`) sleeps 1, 2, 5 … 50, then
/// 100 ms between tries, so a writer held back for 30 ms by the checkpointer's RESTART, or by
/// the CLI, slept up to 50 ms past it, which is the write tail.
fn retry_every_millisecond(tries: i32) -> impl FnMut(i32) -> bool + Send + 'static {
    move |n| {
        std::thread::sleep(Duration::from_millis(1));
        n < tries
    }
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Checkpointer,
}

/// Called on the writer thread after each batch's COMMIT, with whether it succeeded.
pub(crate) type AfterCommit = Box<dyn Fn(bool) + Send>;

impl Writer {
    pub(crate) fn spawn(conn: Connection, after_commit: AfterCommit) -> StoreResult<Self> {
        // The checkpointer's job, not the COMMIT's. When the writer starts the WAL over, the
        // file is cut back to this (otherwise it keeps its largest size on disk).
        // The sub-journal (the pages a job's SAVEPOINT may have to roll back) in memory: in a
        // file, every job past 16 pages wrote it out with `pwrite`, 17 % of S4's profile. It
        // holds one job's pages at most (RELEASE ends it), a bulk import's a few MiB.
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_KEPT_BYTES}; PRAGMA temp_store = MEMORY;"
        ))
        .map_err(backend)?;
        let checkpointer = Checkpointer::spawn(Path::new(conn.path().unwrap_or_default()))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, after_commit))
            .expect("spawn SQLite writer thread");
        Ok(Self { jobs: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)), checkpointer })
    }

    /// Runs `f` in a transaction (shared with other concurrent writes) and returns its result
    /// once committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked; rolled back".into()))),
                None => Err(StoreError::Backend("could not begin a transaction".into())),
            };
            let ok = result.is_ok();
            let complete: Completion = Box::new(move |commit| {
                let outcome = match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
                };
                let _ = done_tx.send(outcome);
            });
            (ok, complete)
        });
        let sent = self.jobs.lock().expect("writer lock").as_ref().map(|tx| tx.send(job).is_ok()).unwrap_or(false);
        if !sent {
            return Err(StoreError::Backend("the database writer has stopped".into()));
        }
        done_rx.await.map_err(|_| StoreError::Backend("the database writer has stopped".into()))?
    }

    /// Stops taking jobs and waits until those queued are committed.
    pub(crate) fn shutdown(&self) {
        self.jobs.lock().expect("writer lock").take();
        if let Some(t) = self.thread.lock().expect("writer lock").take() {
            let _ = t.join();
        }
        self.checkpointer.shutdown();
    }
}

/// The thread that checkpoints the WAL beside the writer.
struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// How often the checkpointer looks at the WAL; a look with nothing to copy costs one pragma.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Frames a pass may leave behind (readers still using them) before the next pass runs at once.
const CHECKPOINT_FRAMES: i64 = 1_000;
/// WAL frames (a page each, 4 KiB) past which a pass also waits for the WAL to be started over.
/// The writer starts it over only when every frame has been copied and no reader is on it,
/// which a steady stream of writes never allows on its own: the bench's 1M seed left an 18 GB
/// WAL beside a 2 GB database, and the next open spent 10 s reading it.
#[cfg(not(test))]
const WAL_RESTART_FRAMES: i64 = 16_384;
#[cfg(test)]
const WAL_RESTART_FRAMES: i64 = 256;
/// What the WAL file is cut back to when it starts over.
const WAL_KEPT_BYTES: i64 = 64 << 20;
/// How long the RESTART may hold new writes back while it waits for readers; a pass that
/// does not get there in time leaves it to the next.
const RESTART_WAIT: Duration = Duration::from_millis(25);

impl Checkpointer {
    fn spawn(path: &Path) -> StoreResult<Self> {
        let mut conn = open_connection(path, false)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;").map_err(backend)?;
        // Tries every millisecond too: while it waits the writer waits behind it.
        let tries = i32::try_from(RESTART_WAIT.as_millis()).unwrap_or(i32::MAX);
        conn.busy_handler(Some(retry_every_millisecond(tries))).map_err(backend)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut pending = 0;
                while !stopping.load(Ordering::Acquire) {
                    // Behind after a pass (the writer outran it, or readers held frames): look
                    // again sooner.
                    std::thread::sleep(if pending < CHECKPOINT_FRAMES {
                        CHECKPOINT_EVERY
                    } else {
                        CHECKPOINT_EVERY / 10
                    });
                    // `(busy, frames in the WAL, frames copied)`; a PASSIVE run copies what no
                    // reader still needs and waits for no one.
                    let frames = |mode: &str| {
                        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                        })
                    };
                    match frames("PASSIVE") {
                        Ok((log, copied)) => {
                            pending = log - copied.max(0);
                            // RESTART copies the rest, then waits (at most RESTART_WAIT, new
                            // writes held back) until no reader is on the WAL: the next write
                            // starts it over.
                            if log > WAL_RESTART_FRAMES
                                && let Ok((log, copied)) = frames("RESTART")
                            {
                                pending = log - copied.max(0);
                            }
                        }
                        Err(e) => {
                            pending = 0;
                            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                        }
                    }
                }
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the checkpointer: {e}")))?;
        Ok(Self { stop, thread: Mutex::new(Some(thread)) })
    }

    fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().expect("checkpointer lock").take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>, after_commit: AfterCommit) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])) {
            tracing::error!(error = %e, "SQLite writer could not begin a transaction");
            for job in batch {
                let (_, complete) = job(None);
                complete(Err(e.to_string()));
            }
            continue;
        }
        let mut completions = Vec::with_capacity(batch.len());
        // Cached statements: these run for every job, so they are parsed once.
        let run =
            |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(|e| e.to_string());
        for job in batch {
            if let Err(e) = run("SAVEPOINT job") {
                let (_, complete) = job(None);
                completions.push((complete, Some(e)));
                continue;
            }
            let (ok, complete) = job(Some(&conn));
            let failure = if ok {
                run("RELEASE job").err()
            } else {
                run("ROLLBACK TO job").and_then(|()| run("RELEASE job")).err()
            };
            completions.push((complete, failure));
        }
        let commit =
            conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).map(|_| ()).map_err(|e| e.to_string());
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        after_commit(commit.is_ok());
        for (complete, own_failure) in completions {
            complete(match (&commit, own_failure) {
                (Err(e), _) => Err(e.clone()),
                (Ok(()), Some(e)) => Err(e),
                (Ok(()), None) => Ok(()),
            });
        }
    }
}

/// Read-only connections, one per concurrent reader. Reads run on the calling thread: a query
/// served from SQLite's and the OS's page cache takes microseconds, less than handing it to
/// another thread would cost.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Connections kept for reuse; more are opened when more threads read at once, and closed after.
const IDLE_READERS: usize = 16;

impl Readers {
    pub(crate) fn open(path: &Path, size: usize) -> StoreResult<Self> {
        let idle = (0..size).map(|_| open_connection(path, true)).collect::<StoreResult<Vec<_>>>()?;
        Ok(Self { path: path.to_owned(), idle: Mutex::new(idle) })
    }

    /// Connections waiting to be used.
    pub(crate) fn idle(&self) -> usize {
        self.idle.lock().expect("reader pool lock").len()
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pooled = self.idle.lock().expect("reader pool lock").pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.path, true)?,
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes that never pause, with a reader always in a transaction: the WAL is still started
    /// over now and then, so its file stays bounded (without the RESTART it grows by every
    /// frame written: well over 100 MiB here). The bound is loose because the checkpointer
    /// looks every 100 ms and the suite runs beside other tests.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_under_steady_writes_and_reads() {
        let dir = std::env::temp_dir().join(format!("partnerd-test-wal-{}", partnerd_domain::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let conn = open_connection(&path, false).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        let writer = Writer::spawn(conn, Box::new(|_| {})).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reading = stop.clone();
        let reader_path = path.clone();
        let reader = std::thread::spawn(move || {
            let conn = open_connection(&reader_path, true).unwrap();
            while !reading.load(Ordering::Acquire) {
                let n: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
                assert!(n >= 0);
            }
        });
        let wal = dir.join("w.db-wal");
        let mut largest = 0;
        for i in 0..12_000i64 {
            writer
                .write(move |c| {
                    c.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(4000))", [i]).map_err(backend)?;
                    Ok(())
                })
                .await
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        stop.store(true, Ordering::Release);
        reader.join().unwrap();
        writer.shutdown();
        // 12,000 pages (47 MiB of data alone) were written; the WAL never held more than a
        // fraction of them.
        assert!(largest < 32 << 20, "the WAL reached {largest} bytes");
    }
}
