//! Which `pub fn`s of a Rust cell scripts can call, and the code that serves them.
//!
//! A Rust cell's public functions whose parameters and result have a columnar counterpart in Rhai
//! (`&[f64]` ↔ Series, `f64`/`i64`/`bool` ↔ numbers and bools) are compiled once more, in a hidden
//! evaluation, together with a small server: a thread in evcxr's child process that accepts
//! connections on a Unix socket and calls them. The kernel checks and converts the arguments, so
//! the wire carries no type tags: per call, the function's index, then each argument in its
//! declared kind (f64 and i64 as 8 native-endian bytes, bool as one byte, a series as its length
//! then its raw f64 bytes); the reply is a status byte and the result in the encoding of
//! [`Ret`]. Native endianness is right: both ends are on one machine.

/// What a parameter takes from Rhai.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// `&[f64]`, `&Vec<f64>` (borrowed) or `Vec<f64>` (owned): a Series or an array of numbers.
    Series {
        owned: bool,
    },
    /// `f64` or `f32`: a number.
    Float {
        rust: String,
    },
    /// An integer type: a whole number (a float is truncated).
    Int {
        rust: String,
    },
    Bool,
}

/// What comes back (the tag byte on the wire).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ret {
    Unit = 0,
    Float = 1,
    Int = 2,
    Bool = 3,
    Series = 4,
    Bools = 5,
    Map = 6,
}

/// A callable function of a cell.
#[derive(Clone, Debug, PartialEq)]
pub struct RustFn {
    pub name: String,
    pub params: Vec<(String, Param)>,
    pub ret: Ret,
    /// `kalman(close: &[f64], q: f64, r: f64) -> Vec<f64>`
    pub signature: String,
}

const INTS: &[&str] = &[
    "i64", "i32", "i16", "i8", "isize", "u64", "u32", "u16", "u8", "usize",
];

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn param(ty: &str) -> Option<Param> {
    let t = squash(ty);
    Some(match t.as_str() {
        "&[f64]" | "&Vec<f64>" => Param::Series { owned: false },
        "Vec<f64>" => Param::Series { owned: true },
        "f64" | "f32" => Param::Float { rust: t },
        "bool" => Param::Bool,
        t if INTS.contains(&t) => Param::Int { rust: t.into() },
        _ => return None,
    })
}

fn ret(ty: Option<&str>) -> Option<Ret> {
    let Some(ty) = ty else { return Some(Ret::Unit) };
    let t = squash(ty);
    let t = t
        .trim_start_matches("std::collections::")
        .trim_start_matches("std::vec::");
    Some(match t {
        "()" => Ret::Unit,
        "f64" | "f32" => Ret::Float,
        "bool" => Ret::Bool,
        "Vec<f64>" => Ret::Series,
        "Vec<bool>" => Ret::Bools,
        "HashMap<String,Vec<f64>>"
        | "BTreeMap<String,Vec<f64>>"
        | "Vec<(String,Vec<f64>)>"
        | "Vec<(&'staticstr,Vec<f64>)>"
        | "Vec<(&str,Vec<f64>)>" => Ret::Map,
        t if INTS.contains(&t) => Ret::Int,
        _ => return None,
    })
}

/// The public functions of `code` (a cell, evcxr commands such as `:dep` skipped): those scripts
/// can call, and a note for each `pub fn` they cannot, saying why.
pub fn callable_fns(code: &str) -> (Vec<RustFn>, Vec<String>) {
    use ra_ap_syntax::ast::{self, HasGenericParams, HasName, HasVisibility};
    use ra_ap_syntax::{AstNode, Edition, SourceFile};
    // Commands are lines that start with `:`; blank them so line numbers stay.
    let rust: String = code
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(':') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = SourceFile::parse(&rust, Edition::Edition2024).tree();
    let mut fns = Vec::new();
    let mut notes = Vec::new();
    for item in file.syntax().children().filter_map(ast::Fn::cast) {
        let Some(vis) = item.visibility() else {
            continue;
        };
        if squash(&vis.syntax().text().to_string()) != "pub" {
            continue;
        }
        let Some(name) = item.name().map(|n| n.text().to_string()) else {
            continue;
        };
        let mut why: Option<String> = None;
        if item.generic_param_list().is_some() {
            why = Some("it is generic".into());
        } else if item.async_token().is_some() || item.unsafe_token().is_some() {
            why = Some("it is async or unsafe".into());
        }
        let mut params = Vec::new();
        let mut shown = Vec::new();
        if let Some(list) = item.param_list() {
            if list.self_param().is_some() {
                why = Some("it takes self".into());
            }
            for p in list.params() {
                let pat = p.pat().map(|x| x.syntax().text().to_string());
                let ty = p
                    .ty()
                    .map(|x| x.syntax().text().to_string())
                    .unwrap_or_default();
                let pname = pat.unwrap_or_else(|| "_".into());
                shown.push(format!("{pname}: {ty}"));
                match param(&ty) {
                    Some(k) => params.push((pname, k)),
                    None if why.is_none() => {
                        why = Some(format!(
                            "parameter `{pname}: {ty}` has no Rhai counterpart (use &[f64], f64, i64 or bool)"
                        ))
                    }
                    None => {}
                }
            }
        }
        let ret_ty = item
            .ret_type()
            .and_then(|r| r.ty())
            .map(|t| t.syntax().text().to_string());
        let ret_kind = ret(ret_ty.as_deref());
        if ret_kind.is_none() && why.is_none() {
            why = Some(format!(
                "it returns `{}` (use Vec<f64>, Vec<bool>, f64, i64, bool or HashMap<String, Vec<f64>>)",
                ret_ty.clone().unwrap_or_default()
            ));
        }
        match (why, ret_kind) {
            (None, Some(ret)) => {
                let arrow = ret_ty.map(|t| format!(" -> {t}")).unwrap_or_default();
                fns.push(RustFn {
                    signature: format!("{name}({}){arrow}", shown.join(", ")),
                    name,
                    params,
                    ret,
                })
            }
            (Some(why), _) => notes.push(format!("`{name}` is not callable from Rhai: {why}")),
            (None, None) => {}
        }
    }
    (fns, notes)
}

/// The hidden evaluation that serves `fns` on the Unix socket at `socket`: one block statement,
/// so nothing it defines outlives it in evcxr's state. It binds before it returns, so the kernel
/// can connect as soon as the evaluation is done.
pub fn server_code(fns: &[RustFn], socket: &str) -> String {
    let mut arms = String::new();
    for (i, f) in fns.iter().enumerate() {
        let mut reads = String::new();
        let mut args = Vec::new();
        for (j, (_, p)) in f.params.iter().enumerate() {
            let (read, arg) = match p {
                Param::Series { owned: false } => ("sb_series(s)?", format!("&a{j}")),
                Param::Series { owned: true } => ("sb_series(s)?", format!("a{j}")),
                Param::Float { rust } => (
                    "f64::from_ne_bytes(sb_read::<8>(s)?)",
                    format!("a{j} as {rust}"),
                ),
                Param::Int { rust } => (
                    "i64::from_ne_bytes(sb_read::<8>(s)?)",
                    format!("a{j} as {rust}"),
                ),
                Param::Bool => ("sb_read::<1>(s)?[0] != 0", format!("a{j}")),
            };
            reads.push_str(&format!("let a{j} = {read}; "));
            args.push(arg);
        }
        arms.push_str(&format!(
            "{i} => {{ {reads}sb_reply(s, std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SbOut::out({}({})))))?; }}\n",
            f.name,
            args.join(", ")
        ));
    }
    format!(
        r#"{{
use std::io::{{Read, Write}};
fn sb_read<const N: usize>(s: &mut std::os::unix::net::UnixStream) -> std::io::Result<[u8; N]> {{
    let mut b = [0u8; N];
    s.read_exact(&mut b)?;
    Ok(b)
}}
fn sb_series(s: &mut std::os::unix::net::UnixStream) -> std::io::Result<Vec<f64>> {{
    let n = u64::from_ne_bytes(sb_read::<8>(s)?) as usize;
    let mut v = vec![0f64; n];
    // Safety: f64 has no invalid bit patterns; the bytes are v's own buffer.
    let bytes = unsafe {{ std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, n * 8) }};
    s.read_exact(bytes)?;
    Ok(v)
}}
fn sb_put_series(out: &mut Vec<u8>, v: &[f64]) {{
    out.extend_from_slice(&(v.len() as u64).to_ne_bytes());
    // Safety: reading an f64 slice as bytes.
    out.extend_from_slice(unsafe {{ std::slice::from_raw_parts(v.as_ptr() as *const u8, v.len() * 8) }});
}}
// A result: a head of bytes, then (for a Vec<f64>) the values themselves, written without a copy.
trait SbOut {{ fn out(self) -> (Vec<u8>, Vec<f64>); }}
impl SbOut for () {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ (vec![0], Vec::new()) }} }}
impl SbOut for f64 {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ let mut o = vec![1]; o.extend_from_slice(&self.to_ne_bytes()); (o, Vec::new()) }} }}
impl SbOut for f32 {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ (self as f64).out() }} }}
macro_rules! sb_int {{ ($($t:ty),*) => {{ $(impl SbOut for $t {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ let mut o = vec![2]; o.extend_from_slice(&(self as i64).to_ne_bytes()); (o, Vec::new()) }} }})* }} }}
sb_int!(i64, i32, i16, i8, isize, u64, u32, u16, u8, usize);
impl SbOut for bool {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ (vec![3, self as u8], Vec::new()) }} }}
impl SbOut for Vec<f64> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ let mut o = vec![4]; o.extend_from_slice(&(self.len() as u64).to_ne_bytes()); (o, self) }} }}
impl SbOut for Vec<bool> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ let mut o = vec![5]; o.extend_from_slice(&(self.len() as u64).to_ne_bytes()); o.extend(self.iter().map(|&b| b as u8)); (o, Vec::new()) }} }}
fn sb_map<K: AsRef<str>>(it: impl Iterator<Item = (K, Vec<f64>)>) -> (Vec<u8>, Vec<f64>) {{
    let mut o = vec![6];
    let items: Vec<(K, Vec<f64>)> = it.collect();
    o.extend_from_slice(&(items.len() as u64).to_ne_bytes());
    for (k, v) in &items {{
        let k = k.as_ref().as_bytes();
        o.extend_from_slice(&(k.len() as u64).to_ne_bytes());
        o.extend_from_slice(k);
        sb_put_series(&mut o, v);
    }}
    (o, Vec::new())
}}
impl SbOut for std::collections::HashMap<String, Vec<f64>> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ let mut v: Vec<_> = self.into_iter().collect(); v.sort_by(|a, b| a.0.cmp(&b.0)); sb_map(v.into_iter()) }} }}
impl SbOut for std::collections::BTreeMap<String, Vec<f64>> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ sb_map(self.into_iter()) }} }}
impl SbOut for Vec<(String, Vec<f64>)> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ sb_map(self.into_iter()) }} }}
impl<'a> SbOut for Vec<(&'a str, Vec<f64>)> {{ fn out(self) -> (Vec<u8>, Vec<f64>) {{ sb_map(self.into_iter()) }} }}
fn sb_reply(s: &mut std::os::unix::net::UnixStream, r: std::thread::Result<(Vec<u8>, Vec<f64>)>) -> std::io::Result<()> {{
    match r {{
        Ok((mut head, body)) => {{
            head.insert(0, 0);
            s.write_all(&head)?;
            // Safety: reading an f64 slice as bytes.
            s.write_all(unsafe {{ std::slice::from_raw_parts(body.as_ptr() as *const u8, body.len() * 8) }})
        }}
        Err(p) => {{
            let msg = p.downcast_ref::<&str>().map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            s.write_all(&[1])?;
            s.write_all(&(msg.len() as u64).to_ne_bytes())?;
            s.write_all(msg.as_bytes())
        }}
    }}
}}
fn sb_serve(s: &mut std::os::unix::net::UnixStream) -> std::io::Result<()> {{
    loop {{
        let i = u32::from_ne_bytes(sb_read::<4>(s)?);
        match i {{
{arms}            _ => return Ok(()),
        }}
    }}
}}
let _ = std::fs::remove_file({socket:?});
let listener = std::os::unix::net::UnixListener::bind({socket:?}).expect("stratbook: binding the Rust call socket");
std::thread::spawn(move || {{
    for conn in listener.incoming() {{
        let Ok(mut s) = conn else {{ break }};
        std::thread::spawn(move || {{ let _ = sb_serve(&mut s); }});
    }}
}});
}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_callable_public_fns_and_says_why_others_are_not() {
        let (fns, notes) = callable_fns(
            ":dep rand = \"0.8\"\n\
             pub fn kalman(close: &[f64], q: f64, r: f64) -> Vec<f64> { close.to_vec() }\n\
             fn private(x: f64) -> f64 { x }\n\
             pub fn n(len: usize, up: bool) -> i64 { 0 }\n\
             pub fn bands(x: Vec<f64>) -> std::collections::HashMap<String, Vec<f64>> { Default::default() }\n\
             pub fn text(s: &str) -> f64 { 0.0 }\n\
             pub fn generic<T>(x: T) -> f64 { 0.0 }\n\
             let y = 3;\n",
        );
        let names: Vec<_> = fns.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["kalman", "n", "bands"]);
        assert_eq!(
            fns[0].signature,
            "kalman(close: &[f64], q: f64, r: f64) -> Vec<f64>"
        );
        assert_eq!(fns[0].ret, Ret::Series);
        assert_eq!(
            fns[1].params[0].1,
            Param::Int {
                rust: "usize".into()
            }
        );
        assert_eq!(fns[2].ret, Ret::Map);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("`text`") && notes[0].contains("s: &str"));
        assert!(notes[1].contains("generic"));
    }

    #[test]
    fn the_server_calls_each_function_with_its_arguments() {
        let (fns, _) = callable_fns("pub fn f(a: &[f64], b: u32, c: bool) -> f64 { 0.0 }");
        let code = server_code(&fns, "/tmp/x.sock");
        assert!(code.contains("f(&a0, a1 as u32, a2)"), "{code}");
        assert!(code.contains("\"/tmp/x.sock\""));
    }
}
