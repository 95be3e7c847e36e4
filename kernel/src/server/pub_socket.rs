//! The IOPub socket: a ZeroMQ PUB of our own (ZMTP 3.0, NULL mechanism, RFC 23) whose queue per
//! subscriber is bounded in bytes, so a client that connects and stops reading costs the kernel
//! a bounded amount of memory. zeromq 0.7's `PubSocket` (used for this before) queues up to
//! 100,000 messages per subscriber whatever their size and has no high-water-mark option: one
//! subscriber that never read grew the kernel from 36 to 217 MB over six chatty cells.
//!
//! Each subscriber here has a budget ([`DEFAULT_BUDGET`], `STRATBOOK_IOPUB_BUFFER_MB`); a message
//! that would take its queue past the budget is dropped for that subscriber only, as libzmq's PUB
//! drops at its high-water mark, and stderr says so once per episode. Everyone else gets every
//! message. A message is framed and signed once and shared by every queue.
//!
//! The wire: a 64-byte greeting each way, a READY command each way (ours says `Socket-Type`
//! `PUB`), then the subscriber sends its subscriptions (a message `\x01topic`, or the ZMTP 3.1
//! `SUBSCRIBE` command) and receives the messages whose first frame starts with one of them.
//! `PING` is answered with `PONG`; anything else from a subscriber is ignored.

use bytes::{BufMut, Bytes, BytesMut};
use jupyter_protocol::JupyterMessage;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

/// Bytes queued for one subscriber before messages to it are dropped.
pub const DEFAULT_BUDGET: usize = 32 << 20;

/// How long a connecting peer has to complete the greeting and READY.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A frame's flags (RFC 23): more frames follow, an 8-byte size, a command.
const MORE: u8 = 0x01;
const LONG: u8 = 0x02;
const COMMAND: u8 = 0x04;

#[derive(Default)]
struct Queue {
    msgs: VecDeque<Bytes>,
    bytes: usize,
    /// Messages dropped since the queue last had room (0: not dropping).
    dropping: u64,
    closed: bool,
}

#[derive(Default)]
struct Peer {
    subs: Mutex<Vec<Vec<u8>>>,
    queue: Mutex<Queue>,
    wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Peer {
    fn wants(&self, topic: &[u8]) -> bool {
        lock(&self.subs).iter().any(|s| topic.starts_with(s))
    }

    fn push(&self, wire: &Bytes, budget: usize) {
        let mut q = lock(&self.queue);
        if q.closed {
            return;
        }
        // Once dropping, the queue must drain to half the budget before it takes messages again
        // (a low-water mark), so a client that barely keeps up is not flipped in and out.
        if q.dropping > 0 {
            if q.bytes > budget / 2 {
                q.dropping += 1;
                return;
            }
            eprintln!(
                "stratbook: an iopub client caught up; {} messages to it were dropped",
                q.dropping
            );
            q.dropping = 0;
        }
        // One message always fits in an empty queue, however large.
        if q.bytes > 0 && q.bytes + wire.len() > budget {
            eprintln!(
                "stratbook: an iopub client is {} MB behind; dropping output to it until it catches up",
                q.bytes >> 20
            );
            q.dropping = 1;
            return;
        }
        q.bytes += wire.len();
        q.msgs.push_back(wire.clone());
        drop(q);
        self.wake.notify_one();
    }

    fn queued(&self) -> usize {
        let q = lock(&self.queue);
        if q.closed { 0 } else { q.bytes }
    }
}

/// The publishing side (cheap to share): frames, signs and queues messages.
pub struct PubSocket {
    peers: Arc<Mutex<Vec<Arc<Peer>>>>,
    budget: usize,
    mac: Option<ring::hmac::Key>,
    session: String,
}

impl PubSocket {
    /// Binds `endpoint` (`tcp://ip:port` or `ipc://path`) and accepts subscribers in the
    /// background. `key` signs messages (HMAC-SHA256; empty: unsigned).
    pub async fn bind(
        endpoint: &str,
        key: &str,
        session: &str,
        budget: usize,
    ) -> anyhow::Result<PubSocket> {
        let peers: Arc<Mutex<Vec<Arc<Peer>>>> = Arc::default();
        let accepting = peers.clone();
        if let Some(addr) = endpoint.strip_prefix("tcp://") {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((s, _)) => {
                            let _ = s.set_nodelay(true);
                            let (r, w) = s.into_split();
                            tokio::spawn(serve_peer(r, w, accepting.clone()));
                        }
                        Err(e) => {
                            eprintln!("stratbook: iopub accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
        } else if let Some(path) = endpoint.strip_prefix("ipc://") {
            #[cfg(unix)]
            {
                let _ = std::fs::remove_file(path);
                let listener = tokio::net::UnixListener::bind(path)?;
                tokio::spawn(async move {
                    loop {
                        match listener.accept().await {
                            Ok((s, _)) => {
                                let (r, w) = s.into_split();
                                tokio::spawn(serve_peer(r, w, accepting.clone()));
                            }
                            Err(e) => {
                                eprintln!("stratbook: iopub accept failed: {e}");
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                });
            }
            #[cfg(not(unix))]
            anyhow::bail!("ipc transport is not supported here ({path}); use tcp");
        } else {
            anyhow::bail!("unsupported iopub endpoint {endpoint}");
        }
        Ok(PubSocket {
            peers,
            budget,
            mac: (!key.is_empty())
                .then(|| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes())),
            session: session.to_string(),
        })
    }

    /// Queues `msg` for every subscriber whose subscription matches its topic.
    pub fn send(&self, msg: JupyterMessage) -> anyhow::Result<()> {
        let parts = sign(msg.with_session(&self.session), self.mac.as_ref())?;
        let topic = parts[0].clone();
        let wire = encode(&parts);
        let peers = lock(&self.peers).clone();
        for p in peers.iter().filter(|p| p.wants(&topic)) {
            p.push(&wire, self.budget);
        }
        Ok(())
    }

    /// Waits until every subscriber's queue is written out, or `max` passes.
    pub async fn drain(&self, max: Duration) {
        let until = tokio::time::Instant::now() + max;
        while tokio::time::Instant::now() < until {
            let queued: usize = lock(&self.peers).iter().map(|p| p.queued()).sum();
            if queued == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The message's frames as Jupyter sends them: the topic, `<IDS|MSG>`, the signature, header,
/// parent header, metadata, content, then any buffers (which the signature does not cover).
fn sign(msg: JupyterMessage, mac: Option<&ring::hmac::Key>) -> anyhow::Result<Vec<Bytes>> {
    let json = [
        serde_json::to_vec(&msg.header)?,
        match &msg.parent_header {
            Some(p) => serde_json::to_vec(p)?,
            None => b"{}".to_vec(),
        },
        serde_json::to_vec(&msg.metadata)?,
        serde_json::to_vec(&msg.content)?,
    ];
    let sig = match mac {
        Some(key) => {
            let mut ctx = ring::hmac::Context::with_key(key);
            for part in &json {
                ctx.update(part);
            }
            hex(ctx.sign().as_ref())
        }
        None => String::new(),
    };
    let mut parts: Vec<Bytes> = msg.zmq_identities.clone();
    if parts.is_empty() {
        // Every message needs a first frame to match subscriptions against.
        parts.push(Bytes::from_static(b"kernel"));
    }
    parts.push(Bytes::from_static(b"<IDS|MSG>"));
    parts.push(Bytes::from(sig));
    parts.extend(json.into_iter().map(Bytes::from));
    parts.extend(msg.buffers.iter().cloned());
    Ok(parts)
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

fn put_frame(out: &mut BytesMut, flags: u8, body: &[u8]) {
    if body.len() > 255 {
        out.put_u8(flags | LONG);
        out.put_u64(body.len() as u64);
    } else {
        out.put_u8(flags);
        out.put_u8(body.len() as u8);
    }
    out.put_slice(body);
}

/// A multipart message as ZMTP frames.
fn encode(parts: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(parts.iter().map(|p| p.len() + 9).sum());
    for (k, p) in parts.iter().enumerate() {
        put_frame(&mut out, if k + 1 < parts.len() { MORE } else { 0 }, p);
    }
    out.freeze()
}

/// Our greeting: signature, version 3.0, mechanism NULL, as-server 0, filler.
fn greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 0;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// A command frame: name-size, name, data.
fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + name.len() + data.len());
    body.push(name.len() as u8);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    let mut out = BytesMut::new();
    put_frame(&mut out, COMMAND, &body);
    out.to_vec()
}

/// Reads one frame: (flags, body). Frames larger than `max` end the connection.
async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> std::io::Result<(u8, Vec<u8>)> {
    let flags = r.read_u8().await?;
    let len = if flags & LONG != 0 {
        r.read_u64().await? as usize
    } else {
        r.read_u8().await? as usize
    };
    if len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a {len}-byte frame from an iopub subscriber"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok((flags, body))
}

/// Splits a command body into its name and data.
fn command_parts(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = *body.first()? as usize;
    (body.len() > n).then(|| (&body[1..=n], &body[n + 1..]))
}

/// Greeting and READY with one subscriber, then its queue until it leaves.
async fn serve_peer<R, W>(mut r: R, mut w: W, peers: Arc<Mutex<Vec<Arc<Peer>>>>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let handshake = async {
        w.write_all(&greeting()).await?;
        let mut theirs = [0u8; 64];
        r.read_exact(&mut theirs).await?;
        if theirs[0] != 0xff || theirs[9] != 0x7f || theirs[10] < 3 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a ZMTP 3 peer",
            ));
        }
        let mut ready = Vec::new();
        ready.extend_from_slice(b"\x0bSocket-Type");
        ready.extend_from_slice(&3u32.to_be_bytes());
        ready.extend_from_slice(b"PUB");
        w.write_all(&command("READY", &ready)).await?;
        let (flags, body) = read_frame(&mut r, 1 << 16).await?;
        match command_parts(&body) {
            Some((name, _)) if flags & COMMAND != 0 && name == b"READY" => Ok(()),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "expected READY",
            )),
        }
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(())) => {}
        // A port scanner, a client that gave up, a ZMTP 2 peer: nothing to serve.
        _ => return,
    }
    let peer = Arc::new(Peer::default());
    lock(&peers).push(peer.clone());
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let reader = {
        let peer = peer.clone();
        async move {
            loop {
                let Ok((flags, body)) = read_frame(&mut r, 1 << 16).await else {
                    break;
                };
                if flags & COMMAND != 0 {
                    match command_parts(&body) {
                        Some((b"SUBSCRIBE", topic)) => lock(&peer.subs).push(topic.to_vec()),
                        Some((b"CANCEL", topic)) => unsubscribe(&peer, topic),
                        Some((b"PING", data)) if data.len() >= 2 => {
                            let _ = pong_tx.send(command("PONG", &data[2..]));
                            peer.wake.notify_one();
                        }
                        _ => {}
                    }
                } else if flags & MORE == 0 {
                    match body.first() {
                        Some(1) => lock(&peer.subs).push(body[1..].to_vec()),
                        Some(0) => unsubscribe(&peer, &body[1..]),
                        _ => {}
                    }
                }
            }
        }
    };
    let writer = write_loop(&mut w, &peer, &mut pong_rx);
    // The peer leaves when it closes its end (the reader ends) or stops accepting bytes with an
    // error (the writer ends).
    tokio::select! {
        _ = reader => {}
        _ = writer => {}
    }
    {
        let mut q = lock(&peer.queue);
        q.closed = true;
        q.msgs.clear();
        q.bytes = 0;
    }
    lock(&peers).retain(|p| !Arc::ptr_eq(p, &peer));
}

/// Writes the peer's queue (and answers to its PINGs) as it fills; returns on a write error.
async fn write_loop<W: AsyncWrite + Unpin>(
    w: &mut W,
    peer: &Peer,
    pongs: &mut tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
) -> std::io::Result<()> {
    loop {
        while let Ok(pong) = pongs.try_recv() {
            w.write_all(&pong).await?;
        }
        let next = lock(&peer.queue).msgs.front().cloned();
        match next {
            Some(m) => {
                w.write_all(&m).await?;
                let mut q = lock(&peer.queue);
                q.msgs.pop_front();
                q.bytes -= m.len();
            }
            None => {
                w.flush().await?;
                peer.wake.notified().await;
            }
        }
    }
}

fn unsubscribe(peer: &Peer, topic: &[u8]) {
    let mut subs = lock(&peer.subs);
    if let Some(k) = subs.iter().position(|s| s == topic) {
        subs.remove(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_use_short_and_long_sizes() {
        let short = encode(&[Bytes::from_static(b"ab"), Bytes::from_static(b"c")]);
        assert_eq!(&short[..], b"\x01\x02ab\x00\x01c");
        let big = vec![7u8; 300];
        let long = encode(&[Bytes::from(big)]);
        assert_eq!(long[0], LONG);
        assert_eq!(&long[1..9], &300u64.to_be_bytes());
        assert_eq!(long.len(), 9 + 300);
    }

    #[test]
    fn a_full_queue_drops_for_that_peer_only() {
        let mk = || Peer {
            subs: Mutex::new(vec![Vec::new()]),
            ..Peer::default()
        };
        let (slow, fast) = (mk(), mk());
        let m = Bytes::from(vec![0u8; 1000]);
        for _ in 0..10 {
            slow.push(&m, 4500);
            fast.push(&m, 4500);
            lock(&fast.queue).msgs.clear();
            lock(&fast.queue).bytes = 0;
        }
        assert_eq!(lock(&slow.queue).msgs.len(), 4);
        assert_eq!(lock(&slow.queue).dropping, 6);
        assert_eq!(lock(&fast.queue).dropping, 0);
        // Room again: the next message is queued and the episode ends.
        lock(&slow.queue).msgs.clear();
        lock(&slow.queue).bytes = 0;
        slow.push(&m, 4500);
        assert_eq!(lock(&slow.queue).dropping, 0);
        assert_eq!(lock(&slow.queue).msgs.len(), 1);
    }

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
