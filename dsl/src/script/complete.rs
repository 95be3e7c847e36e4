//! Completion and inspection on cell text (Rhai has no error-recovering parser, so both work on
//! the identifier or `.` before the cursor, combined with the docs and the session's variables).

use super::session::{Completion, Session};

pub fn complete(_s: &Session, _code: &str, cursor: usize) -> Completion {
    Completion {
        matches: vec![],
        start: cursor,
        end: cursor,
    }
}

pub fn inspect(_s: &Session, _code: &str, _cursor: usize) -> Option<String> {
    None
}

pub fn describe(s: &Session, name: &str) -> Option<String> {
    s.docs().get(name).map(|d| d.render())
}
