//! Reading and composing messages. Reads are lenient: the frames are checked (HMAC verified by
//! `RawMessage::from_multipart`, replays of a signed message refused), the header parsed, and the content kept as raw JSON for our own
//! handlers with defaults, so a request jupyter-protocol cannot type (a history search without
//! `unique`, a shutdown without `restart`) still gets a reply instead of vanishing.

use bytes::Bytes;
use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::{Connection, RawMessage, RuntimeError};
use serde_json::Value;

/// A verified request: the message (for parenting and routing replies) and its raw content.
pub struct Request {
    pub msg: JupyterMessage,
    pub content: Value,
}

impl Request {
    pub fn msg_type(&self) -> &str {
        &self.msg.header.msg_type
    }
}

/// Why a read produced no request.
#[derive(Debug)]
pub enum ReadError {
    /// The socket failed; the caller should back off briefly and keep reading.
    Socket(String),
    /// Bad signature, missing frames or unreadable JSON: drop the message and keep reading.
    Rejected(String),
}

/// Reads one request from a ROUTER socket half.
pub async fn read<S: zeromq::SocketRecv>(conn: &mut Connection<S>) -> Result<Request, ReadError> {
    let frames = conn
        .socket
        .recv()
        .await
        .map_err(|e| ReadError::Socket(e.to_string()))?;
    // The signature frame follows the `<IDS|MSG>` delimiter.
    let signature = frames
        .iter()
        .position(|f| f.as_ref() == DELIMITER)
        .and_then(|i| frames.iter().nth(i + 1))
        .cloned();
    let raw = RawMessage::from_multipart(frames, &conn.mac).map_err(|e| match e {
        RuntimeError::VerifyError(_) => ReadError::Rejected("bad HMAC signature".into()),
        other => ReadError::Rejected(format!("malformed frames ({other})")),
    })?;
    // Verified: now a signature seen before is a replay (only signed messages can be told apart).
    if conn.mac.is_some()
        && let Some(sig) = signature
        && !SEEN.lock().map(|mut h| h.first_time(sig)).unwrap_or(true)
    {
        return Err(ReadError::Rejected(
            "a replayed message (its signature was seen before)".into(),
        ));
    }
    decode(raw)
}

const DELIMITER: &[u8] = b"<IDS|MSG>";

/// Signatures of the signed messages read so far, on every channel (jupyter_client's
/// `Session.digest_history`): a byte-identical replay of a signed request is refused. A
/// signature covers the header, whose `msg_id` is unique, so a legitimate client never repeats one.
static SEEN: std::sync::Mutex<DigestHistory> = std::sync::Mutex::new(DigestHistory::new());

/// The newest [`DigestHistory::SIZE`] signatures (the oldest forgotten first).
pub struct DigestHistory {
    set: Option<std::collections::HashSet<Bytes>>,
    order: std::collections::VecDeque<Bytes>,
}

impl DigestHistory {
    /// As jupyter_client's `digest_history_size`.
    pub const SIZE: usize = 1 << 16;

    pub const fn new() -> DigestHistory {
        DigestHistory {
            set: None,
            order: std::collections::VecDeque::new(),
        }
    }

    /// Records `sig`; false when it was already there.
    pub fn first_time(&mut self, sig: Bytes) -> bool {
        let set = self.set.get_or_insert_with(Default::default);
        if !set.insert(sig.clone()) {
            return false;
        }
        self.order.push_back(sig);
        if self.order.len() > Self::SIZE
            && let Some(old) = self.order.pop_front()
        {
            set.remove(&old);
        }
        true
    }
}

impl Default for DigestHistory {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a request from verified frames.
pub fn decode(raw: RawMessage) -> Result<Request, ReadError> {
    let part = |i: usize| raw.jparts.get(i).map(|b| b.as_ref()).unwrap_or(b"{}");
    let header: Header = serde_json::from_slice(part(0))
        .map_err(|e| ReadError::Rejected(format!("unreadable header ({e})")))?;
    let content: Value = serde_json::from_slice(part(3))
        .map_err(|e| ReadError::Rejected(format!("unreadable content ({e})")))?;
    let metadata: Value =
        serde_json::from_slice(part(2)).unwrap_or_else(|_| Value::Object(Default::default()));
    let typed = JupyterMessageContent::from_type_and_content(&header.msg_type, content.clone())
        .unwrap_or_else(|_| {
            JupyterMessageContent::UnknownMessage(UnknownMessage {
                msg_type: header.msg_type.clone(),
                content: content.clone(),
            })
        });
    let msg = JupyterMessage {
        zmq_identities: raw.zmq_identities,
        parent_header: serde_json::from_slice(part(1)).ok(),
        header,
        metadata,
        content: typed,
        buffers: raw.jparts.iter().skip(4).cloned().collect(),
        channel: None,
    };
    Ok(Request { msg, content })
}

/// A message of any type with the given content, as a child of `parent` (routed back to its
/// sender on ROUTER sockets).
pub fn child(parent: &JupyterMessage, msg_type: &str, content: Value) -> JupyterMessage {
    let mut m = JupyterMessage::new(
        UnknownMessage {
            msg_type: msg_type.to_string(),
            content,
        },
        Some(parent),
    );
    m.header.username = "stratbook".into();
    m
}

/// The reply to a request: `x_request` → `x_reply`.
pub fn reply(req: &Request, content: Value) -> JupyterMessage {
    let t = req.msg_type();
    let reply_type = format!("{}_reply", t.strip_suffix("_request").unwrap_or(t));
    child(&req.msg, &reply_type, content)
}

/// An iopub message parented to `parent` (or to nothing), published under the topic
/// `kernel.<session>.<msg_type>` as the spec suggests.
pub fn iopub(
    parent: Option<&JupyterMessage>,
    session: &str,
    msg_type: &str,
    content: Value,
) -> JupyterMessage {
    let mut m = match parent {
        Some(p) => child(p, msg_type, content),
        None => {
            let mut m = JupyterMessage::new(
                UnknownMessage {
                    msg_type: msg_type.to_string(),
                    content,
                },
                None,
            );
            m.header.username = "stratbook".into();
            m
        }
    };
    m.zmq_identities = vec![Bytes::from(format!("kernel.{session}.{msg_type}"))];
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(msg_type: &str, content: Value) -> RawMessage {
        let header = json!({"msg_id": "m1", "session": "s", "username": "u", "date": "2024-01-01T00:00:00Z",
            "msg_type": msg_type, "version": "5.3"});
        RawMessage {
            zmq_identities: vec![Bytes::from_static(b"peer")],
            jparts: vec![
                Bytes::from(header.to_string()),
                Bytes::from_static(b"{}"),
                Bytes::from_static(b"{}"),
                Bytes::from(content.to_string()),
            ],
        }
    }

    #[test]
    fn history_search_without_unique_still_decodes() {
        let req = decode(raw(
            "history_request",
            json!({"hist_access_type": "search", "pattern": "a*"}),
        ))
        .unwrap();
        assert_eq!(req.msg_type(), "history_request");
        assert_eq!(req.content["pattern"], "a*");
    }

    #[test]
    fn reply_keeps_the_routing_identity_and_parent() {
        let req = decode(raw("kernel_info_request", json!({}))).unwrap();
        let r = reply(&req, json!({"status": "ok"}));
        assert_eq!(r.header.msg_type, "kernel_info_reply");
        assert_eq!(r.zmq_identities, vec![Bytes::from_static(b"peer")]);
        assert_eq!(r.parent_header.unwrap().msg_id, "m1");
    }

    #[test]
    fn a_signature_is_accepted_once_and_forgotten_past_the_history_size() {
        let mut h = DigestHistory::new();
        assert!(h.first_time(Bytes::from_static(b"abc")));
        assert!(!h.first_time(Bytes::from_static(b"abc")));
        for i in 0..DigestHistory::SIZE {
            assert!(h.first_time(Bytes::from(i.to_string())));
        }
        assert!(h.first_time(Bytes::from_static(b"abc")));
    }

    #[test]
    fn unreadable_content_is_rejected_not_fatal() {
        let mut r = raw("execute_request", json!({}));
        r.jparts[3] = Bytes::from_static(b"{not json");
        assert!(matches!(decode(r), Err(ReadError::Rejected(_))));
    }
}
