//! The kernel's end of Rhai → Rust calls: [`ForeignFns`] over the Unix sockets that servers in
//! evcxr's child process listen on (see [`super::signature`]). One connection per call in flight,
//! kept for reuse, so a call is one round trip plus copying the arrays.

use super::signature::{Param, Ret, RustFn};
use dsl::script::rust_api::{ForeignArg, ForeignFnInfo, ForeignFns, ForeignValue};
use dsl::series::Series;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

struct Entry {
    f: RustFn,
    index: u32,
    socket: Arc<Socket>,
}

struct Socket {
    path: PathBuf,
    idle: Mutex<Vec<UnixStream>>,
}

/// Every function Rust cells defined in the current evcxr context.
pub struct Bridge {
    interrupt: super::RustInterrupt,
    fns: Mutex<HashMap<String, Entry>>,
    /// Set when the child process is gone: calls then fail with the message below.
    dead: AtomicBool,
}

pub const DEAD: &str = "the Rust process stopped (a crash or an abort): Rust functions are gone \
until a %%rust cell runs again (it starts a fresh Rust context); Rhai variables are kept";

impl Bridge {
    pub fn new(interrupt: super::RustInterrupt) -> Bridge {
        Bridge {
            interrupt,
            fns: Mutex::default(),
            dead: AtomicBool::new(false),
        }
    }

    /// Serves `fns` from the server listening at `path` (a later definition of a name wins).
    pub fn add(&self, fns: &[RustFn], path: PathBuf) {
        let socket = Arc::new(Socket {
            path,
            idle: Mutex::new(Vec::new()),
        });
        let mut map = self.fns.lock().unwrap_or_else(|e| e.into_inner());
        for (i, f) in fns.iter().enumerate() {
            map.insert(
                f.name.clone(),
                Entry {
                    f: f.clone(),
                    index: i as u32,
                    socket: socket.clone(),
                },
            );
        }
    }

    pub fn mark_dead(&self) {
        self.dead.store(true, Ordering::SeqCst);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }
}

fn read<const N: usize>(s: &mut UnixStream) -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    s.read_exact(&mut b)?;
    Ok(b)
}

fn read_u64(s: &mut UnixStream) -> std::io::Result<usize> {
    Ok(u64::from_ne_bytes(read::<8>(s)?) as usize)
}

fn read_series(s: &mut UnixStream) -> std::io::Result<Vec<f64>> {
    let n = read_u64(s)?;
    let mut v = vec![0f64; n];
    s.read_exact(bytemuck::cast_slice_mut(&mut v))?;
    Ok(v)
}

fn kind_name(a: &ForeignArg) -> &'static str {
    match a {
        ForeignArg::Series(_) => "a Series",
        ForeignArg::Float(_) => "a float",
        ForeignArg::Int(_) => "an int",
        ForeignArg::Bool(_) => "a bool",
    }
}

/// Appends a scalar argument in its declared kind; false if `a` does not fit `p` (a Series
/// parameter appends nothing here: its length and bytes are written by `call_on`).
fn put(p: &Param, a: &ForeignArg, out: &mut Vec<u8>) -> bool {
    match (p, a) {
        (Param::Series { .. }, ForeignArg::Series(_)) => {}
        (Param::Float { .. }, ForeignArg::Float(x)) => out.extend_from_slice(&x.to_ne_bytes()),
        (Param::Float { .. }, ForeignArg::Int(n)) => {
            out.extend_from_slice(&(*n as f64).to_ne_bytes())
        }
        (Param::Int { .. }, ForeignArg::Int(n)) => out.extend_from_slice(&n.to_ne_bytes()),
        (Param::Int { .. }, ForeignArg::Float(x)) => {
            out.extend_from_slice(&(*x as i64).to_ne_bytes())
        }
        (Param::Bool, ForeignArg::Bool(b)) => out.push(*b as u8),
        _ => return false,
    }
    true
}

/// Checks the arguments against the signature: a clear error before anything crosses.
fn check(f: &RustFn, args: &[ForeignArg]) -> Result<(), String> {
    if args.len() != f.params.len() {
        return Err(format!(
            "{} takes {} argument(s), got {}: {}",
            f.name,
            f.params.len(),
            args.len(),
            f.signature
        ));
    }
    for (i, ((pname, p), a)) in f.params.iter().zip(args).enumerate() {
        if !put(p, a, &mut Vec::new()) {
            return Err(format!(
                "argument {} of {} (`{pname}`) must be {}, got {}: {}",
                i + 1,
                f.name,
                match p {
                    Param::Series { .. } => "a Series or an array of numbers",
                    Param::Float { .. } | Param::Int { .. } => "a number",
                    Param::Bool => "a bool",
                },
                kind_name(a),
                f.signature
            ));
        }
    }
    Ok(())
}

fn call_on(s: &mut UnixStream, e: &Entry, args: &[ForeignArg]) -> Result<ForeignValue, CallError> {
    // Scalars are gathered; each series is written straight from its buffer after its length.
    let mut head = Vec::with_capacity(64);
    head.extend_from_slice(&e.index.to_ne_bytes());
    for ((_, p), a) in e.f.params.iter().zip(args) {
        if let ForeignArg::Series(series) = a {
            head.extend_from_slice(&(series.len() as u64).to_ne_bytes());
            s.write_all(&head).map_err(CallError::Io)?;
            head.clear();
            s.write_all(bytemuck::cast_slice(series.values()))
                .map_err(CallError::Io)?;
        } else {
            put(p, a, &mut head);
        }
    }
    if !head.is_empty() {
        s.write_all(&head).map_err(CallError::Io)?;
    }
    read_reply(s, &e.f.name)
        .map_err(CallError::Io)?
        .map_err(CallError::Call)
}

fn read_reply(s: &mut UnixStream, name: &str) -> std::io::Result<Result<ForeignValue, String>> {
    let status = read::<1>(s)?[0];
    if status != 0 {
        let n = read_u64(s)?;
        let mut msg = vec![0u8; n];
        s.read_exact(&mut msg)?;
        return Ok(Err(format!(
            "{} panicked: {}",
            name,
            String::from_utf8_lossy(&msg)
        )));
    }
    let tag = read::<1>(s)?[0];
    Ok(Ok(match tag {
        t if t == Ret::Unit as u8 => ForeignValue::Unit,
        t if t == Ret::Float as u8 => ForeignValue::Float(f64::from_ne_bytes(read::<8>(s)?)),
        t if t == Ret::Int as u8 => ForeignValue::Int(i64::from_ne_bytes(read::<8>(s)?)),
        t if t == Ret::Bool as u8 => ForeignValue::Bool(read::<1>(s)?[0] != 0),
        t if t == Ret::Series as u8 => ForeignValue::Series(Series::new(read_series(s)?)),
        t if t == Ret::Bools as u8 => {
            let n = read_u64(s)?;
            let mut b = vec![0u8; n];
            s.read_exact(&mut b)?;
            ForeignValue::Series(Series::from_bools(b.into_iter().map(|x| x != 0)))
        }
        t if t == Ret::Map as u8 => {
            let n = read_u64(s)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let k = read_u64(s)?;
                let mut key = vec![0u8; k];
                s.read_exact(&mut key)?;
                let v = read_series(s)?;
                out.push((String::from_utf8_lossy(&key).into_owned(), Series::new(v)));
            }
            ForeignValue::Map(out)
        }
        t => return Ok(Err(format!("unknown result tag {t}"))),
    }))
}

enum CallError {
    /// The connection broke: the child process is gone.
    Io(std::io::Error),
    Call(String),
}

impl ForeignFns for Bridge {
    fn call(&self, name: &str, args: &[ForeignArg]) -> Result<ForeignValue, String> {
        if self.is_dead() {
            return Err(DEAD.into());
        }
        let (entry_socket, entry) = {
            let map = self.fns.lock().unwrap_or_else(|e| e.into_inner());
            let Some(e) = map.get(name) else {
                let mut known: Vec<&str> = map.values().map(|e| e.f.signature.as_str()).collect();
                known.sort();
                return Err(format!(
                    "no Rust function `{name}`; defined: {}",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ));
            };
            (
                e.socket.clone(),
                Entry {
                    f: e.f.clone(),
                    index: e.index,
                    socket: e.socket.clone(),
                },
            )
        };
        // Check the kinds before touching the socket.
        check(&entry.f, args)?;
        let pooled = entry_socket
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let mut stream = match pooled {
            Some(s) => s,
            None => UnixStream::connect(&entry_socket.path).map_err(|e| {
                self.mark_dead();
                format!("{DEAD} ({e})")
            })?,
        };
        let busy = self.interrupt.busy();
        let outcome = call_on(&mut stream, &entry, args);
        drop(busy);
        match outcome {
            Ok(v) => {
                entry_socket
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(stream);
                Ok(v)
            }
            // After a panic the server answered in full: the connection is still good.
            Err(CallError::Call(msg)) => {
                entry_socket
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(stream);
                Err(msg)
            }
            Err(CallError::Io(e)) => {
                self.mark_dead();
                Err(format!("{name}: {DEAD} ({e})"))
            }
        }
    }

    fn functions(&self) -> Vec<ForeignFnInfo> {
        let map = self.fns.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<ForeignFnInfo> = map
            .values()
            .map(|e| ForeignFnInfo {
                name: e.f.name.clone(),
                params: e.f.params.iter().map(|(n, _)| n.clone()).collect(),
                signature: e.f.signature.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
