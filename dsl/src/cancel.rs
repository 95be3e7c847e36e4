//! Interrupting long work: the flag the kernel sets on an interrupt and every long loop checks
//! (the script engine's progress hook, backtests, fetches, sweeps).

use crate::error::{DslError, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The interrupt flag: set by the kernel (interrupt_request, SIGINT), read by the script engine's
/// progress hook and by long native loops (backtests, fetches, sweeps).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Cancel::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// `Err(Interrupted)` once cancelled: call it every few thousand iterations of a long loop.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(DslError::Interrupted)
        } else {
            Ok(())
        }
    }
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}
