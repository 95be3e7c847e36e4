//! Backtests written to the store off the cell's path.
//!
//! `backtest()` hands its finished result to one writer thread and returns: hashing the input,
//! encoding trades and signals and committing them (a third of a 1M-bar backtest's time) no
//! longer delays the cell. One thread, a FIFO queue: runs are stored in the order they finished,
//! so their ids keep that order. At most [`QUEUE`] runs wait; a cell that finishes runs faster
//! than they are written waits for room.
//!
//! Whatever reads the runs table first calls [`flush`], and so does the process before it exits
//! (the kernel, `stratbook run`, `stratbook sim start`), so a saved run is never missing where it
//! is looked for. A run whose save failed is reported by [`take_failures`] (the next cell says
//! so on stderr); a save is one transaction, so a crash mid-write leaves no half run.

use super::Store;
use crate::backtest::BacktestResult;
use crate::bars::Bars;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Runs that may wait for the writer before `save` blocks.
const QUEUE: usize = 4;

/// The id a run gets once written: `None` while pending.
#[derive(Default, Debug)]
pub struct Ticket {
    id: Mutex<Option<Option<i64>>>,
    done: Condvar,
}

impl Ticket {
    /// Waits for the write; the run's id, or `None` when it failed.
    pub fn wait(&self) -> Option<i64> {
        let mut g = self.id.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(id) = *g {
                return id;
            }
            g = self.done.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A ticket already settled (a save made on the caller's thread).
    pub fn settled(id: Option<i64>) -> Arc<Ticket> {
        let t = Ticket::default();
        *t.id.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
        Arc::new(t)
    }

    fn settle(&self, id: Option<i64>) {
        *self.id.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
        self.done.notify_all();
    }
}

struct Job {
    db: PathBuf,
    result: Arc<BacktestResult>,
    config: Value,
    bars: Vec<Bars>,
    ticket: Arc<Ticket>,
}

#[derive(Default)]
struct Pending {
    count: usize,
    failures: Vec<String>,
}

struct Writer {
    send: SyncSender<Job>,
    pending: Arc<(Mutex<Pending>, Condvar)>,
}

fn writer() -> &'static Writer {
    static W: OnceLock<Writer> = OnceLock::new();
    W.get_or_init(|| {
        let (send, recv) = sync_channel::<Job>(QUEUE);
        let pending: Arc<(Mutex<Pending>, Condvar)> = Arc::default();
        let p = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("run-store".into())
            .spawn(move || {
                for job in recv {
                    let refs: Vec<&Bars> = job.bars.iter().collect();
                    let saved = Store::open(&job.db)
                        .and_then(|mut s| s.save_hashing(&job.result, &job.config, &refs));
                    let (lock, cv) = &*p;
                    let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
                    match saved {
                        Ok(id) => job.ticket.settle(Some(id)),
                        Err(e) => {
                            g.failures
                                .push(format!("the run {:?} was not saved: {e}", job.result.name));
                            job.ticket.settle(None);
                        }
                    }
                    g.count -= 1;
                    cv.notify_all();
                }
            });
        if let Err(e) = spawned {
            // Without the thread every save fails at once (see `save`), with this message.
            pending
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .failures
                .push(format!("cannot start the run store's writer: {e}"));
        }
        Writer { send, pending }
    })
}

/// Queues a finished run for the store at `db`; the ticket gives its id once written.
pub fn save(
    db: PathBuf,
    result: Arc<BacktestResult>,
    config: Value,
    bars: Vec<Bars>,
) -> Arc<Ticket> {
    let _ = WRITER_STARTED.set(());
    let w = writer();
    let ticket = Arc::new(Ticket::default());
    w.pending.0.lock().unwrap_or_else(|e| e.into_inner()).count += 1;
    let job = Job {
        db,
        result,
        config,
        bars,
        ticket: ticket.clone(),
    };
    if let Err(e) = w.send.send(job) {
        // The writer is gone: save here instead, as before there was one.
        let job = e.0;
        let refs: Vec<&Bars> = job.bars.iter().collect();
        let id =
            Store::open(&job.db).and_then(|mut s| s.save_hashing(&job.result, &job.config, &refs));
        let (lock, cv) = &*w.pending;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        g.count -= 1;
        match id {
            Ok(id) => job.ticket.settle(Some(id)),
            Err(e) => {
                g.failures
                    .push(format!("the run {:?} was not saved: {e}", job.result.name));
                job.ticket.settle(None);
            }
        }
        cv.notify_all();
    }
    ticket
}

/// Waits until every queued run is written.
pub fn flush() {
    if WRITER_STARTED.get().is_none() {
        return;
    }
    let (lock, cv) = &*writer().pending;
    let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
    while g.count > 0 {
        g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
    }
}

/// Set when the first run is queued: `flush` in a process that never saved does nothing.
static WRITER_STARTED: OnceLock<()> = OnceLock::new();

/// Failed saves since the last call, one message each.
pub fn take_failures() -> Vec<String> {
    if WRITER_STARTED.get().is_none() {
        return Vec::new();
    }
    std::mem::take(
        &mut writer()
            .pending
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failures,
    )
}
