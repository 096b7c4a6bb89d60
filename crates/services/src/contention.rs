//! Read-modify-write under contention (listings, opportunities).
//!
//! A use case reads a record, changes it and writes it back with the version it read; a writer
//! that got there first makes the store answer `Conflict`. Two measures keep that from reaching
//! well-behaved clients:
//!
//! - **In this process, writers of one record take turns** ([`EditLocks`]): a per-record async
//!   mutex (FIFO) is held over the whole read-modify-write, so concurrent requests on one server
//!   queue instead of conflicting. Writers of different records never wait for each other.
//! - **Across processes** (several servers on one PostgreSQL), a conflict is retried after a
//!   short, growing, fully jittered pause ([`pause_before`]), for at most [`WRITE_ATTEMPTS`]
//!   attempts (about 1.5 s in all). Only a conflict that outlasts them is reported:
//!   `Conflict`/`concurrent_change`, which surfaces answer as 409 with `Retry-After`
//!   ([`RETRY_AFTER_SECS`]).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Attempts at a read-modify-write before a persistent conflict is reported.
pub const WRITE_ATTEMPTS: u32 = 12;

/// What a surface should tell a client to wait before retrying a persistent conflict.
pub const RETRY_AFTER_SECS: u32 = 1;

/// The first retry waits up to this long; each later one up to twice as long, up to the cap.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// The longest pause before attempt `attempt` (1-based; none before the first).
fn pause_bound(attempt: u32) -> Duration {
    match attempt {
        0 | 1 => Duration::ZERO,
        n => FIRST_PAUSE.saturating_mul(1 << (n - 2).min(16)).min(MAX_PAUSE),
    }
}

/// Waits before attempt `attempt`: a random time up to [`pause_bound`] ("full jitter"), so
/// writers that collided do not collide again in step.
pub async fn pause_before(attempt: u32) {
    let bound = pause_bound(attempt);
    if !bound.is_zero() {
        let micros = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX);
        tokio::time::sleep(Duration::from_micros(rand::random_range(0..=micros))).await;
    }
}

/// Per-record turns for writers in this process. Entries live while someone holds or waits
/// for them, so the map holds only records being written right now.
#[derive(Default)]
pub struct EditLocks {
    held: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// The process's edit turns. One per process (not per `Services`): record keys carry their
/// marketplace and ids are unique, so sharing it between test servers changes nothing.
pub static EDIT_LOCKS: LazyLock<EditLocks> = LazyLock::new(EditLocks::default);

/// A writer's turn on one record; the next writer's turn starts when it is dropped.
pub struct EditTurn<'a> {
    locks: &'a EditLocks,
    key: String,
    mutex: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl EditLocks {
    /// Waits for this process's turn to write the record `key` (`listing:<marketplace>:<id>`).
    pub async fn turn(&self, key: String) -> EditTurn<'_> {
        let mutex = {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            held.entry(key.clone()).or_default().clone()
        };
        let guard = mutex.clone().lock_owned().await;
        EditTurn { locks: self, key, mutex, guard: Some(guard) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for EditTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut held = self.locks.held.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map and this turn refer to it: nobody waits, so the entry can go. (A writer
        // that arrives later finds no entry and makes a fresh one.)
        if Arc::strong_count(&self.mutex) == 2 {
            held.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_from_nothing_to_a_cap() {
        assert_eq!(pause_bound(1), Duration::ZERO, "the first attempt does not wait");
        assert_eq!(pause_bound(2), Duration::from_millis(2));
        assert_eq!(pause_bound(3), Duration::from_millis(4));
        assert_eq!(pause_bound(8), Duration::from_millis(128));
        assert_eq!(pause_bound(9), MAX_PAUSE);
        assert_eq!(pause_bound(u32::MAX), MAX_PAUSE);
        let total: Duration = (1..=WRITE_ATTEMPTS).map(pause_bound).sum();
        assert!(total <= Duration::from_millis(1_500), "bounded: {total:?}");
    }

    #[tokio::test]
    async fn writers_of_one_record_take_turns_and_the_map_empties() {
        let locks: &'static EditLocks = Box::leak(Box::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let inside = inside.clone();
            tasks.push(tokio::spawn(async move {
                let _turn = locks.turn("listing:m:a".into()).await;
                assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0, "one writer at a time");
                tokio::task::yield_now().await;
                inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        // Another record is not held up by them.
        drop(locks.turn("listing:m:b".into()).await);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(locks.len(), 0);
    }
}
