//! A `Session`: one Rhai engine and the state that persists across cells (variables, functions,
//! closures), plus completion, inspection and `is_complete`. The kernel and `stratbook run` each
//! hold one and copy its outputs into messages or notebook cells.

use super::api::Api;
use super::docs::Docs;
use super::errors::{self, CellError, SourceLookup};
use super::{complete, register_all, render};
use crate::data::config::Config;
use crate::display::{MimeBundle, Output};
use crate::script::runtime::Runtime;
use rhai::{AST, Dynamic, Engine, LexError, OptimizationLevel, ParseErrorType, Position, Scope};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a cell gave back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecResult {
    /// The last expression's value, unless it was `()` or the cell ends with `;`.
    pub value: Option<MimeBundle>,
    /// Text for the pager (`?name` / `name?` cells).
    pub page: Option<String>,
    /// A cell to offer as the next one (`%ai`): the kernel's `set_next_input` payload.
    pub next_input: Option<String>,
}

/// The parser's verdict on a cell, for Jupyter's `is_complete`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// More input expected; the indent to continue with.
    Incomplete(String),
    Invalid,
}

/// Matches for completion at a cursor: replace `[start, end)` (in characters) with one of `matches`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    pub matches: Vec<String>,
    pub start: usize,
    pub end: usize,
}

struct Sources(HashMap<String, String>);

impl SourceLookup for Sources {
    fn source(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

pub struct Session {
    engine: Engine,
    scope: Scope<'static>,
    /// Functions defined by earlier cells.
    lib: AST,
    runtime: Arc<Runtime>,
    docs: Arc<Docs>,
    sources: Sources,
    cells: usize,
    /// Every cell run so far with its error, if it failed (what `%ai` tells the model).
    history: Vec<(String, Option<String>)>,
    /// The `%ai` conversation so far (so a follow-up edits the previous answer).
    pub(crate) ai_chat: Vec<crate::llm::client::Message>,
}

/// Engine limits: generous for real work, each breach a clear error.
///
/// Containers have no size limit of their own: the memory budget (`crate::memory`, checked after
/// every operation) bounds them all. Rhai's string/array/map limits were both incomplete (an index
/// assignment `m[k] = v` never checks the map) and quadratic (every call on an array measures the
/// whole array again, so `x.push(i)` in a loop cost O(n²)).
pub const MAX_OPERATIONS: u64 = 2_000_000_000;
pub const MAX_CALL_LEVELS: usize = 64;
/// The largest cell, in bytes. Parsing is linear up to here but cannot be interrupted, so its
/// time is bounded by bounding the source.
pub const MAX_CELL_BYTES: usize = 1 << 20;
/// The most lines a cell may have: Rhai counts lines in 16 bits, so an error further down would
/// be reported at the wrong line.
pub const MAX_CELL_LINES: usize = 65_535;
/// The most `let`/`const` declarations in a cell: Rhai's parser looks each new name up among
/// all the names before it, so declarations cost O(n²) (10,000 take ~0.1 s).
pub const MAX_CELL_DECLARATIONS: usize = 10_000;
/// Past this size a cell is compiled without Rhai's optimizer, whose removal of pure statements
/// is quadratic in their number (160k `1;` statements: 4.7 s optimized, linear without).
const OPTIMIZE_BELOW_BYTES: usize = 64 << 10;

/// The token `on_progress` stops a cell with when the user interrupts it.
pub(crate) const INTERRUPTED: &str = "interrupted";

impl Session {
    pub fn new(config: Config) -> Session {
        let runtime = Runtime::new(config);
        let mut engine = Engine::new();
        let mut docs = Docs::default();
        configure(&mut engine, &runtime);
        {
            let mut api = Api::new(&mut engine, &mut docs);
            register_all(&mut api, &runtime);
        }
        super::help::document(&mut docs);
        let docs = Arc::new(docs);
        super::help::register(&mut engine, &runtime, docs.clone());
        super::stdlib::register(&mut engine);
        Session {
            engine,
            scope: Scope::new(),
            lib: AST::empty(),
            runtime,
            docs,
            sources: Sources(HashMap::new()),
            cells: 0,
            history: Vec::new(),
            ai_chat: Vec::new(),
        }
    }

    /// An engine with every built-in, for a background thread (a simulation) that calls script
    /// functions: its own runtime, so a cell's interrupt never reaches it.
    pub(crate) fn worker_engine(config: Config) -> Engine {
        let runtime = Runtime::new(config);
        let mut engine = Engine::new();
        let mut docs = Docs::default();
        configure(&mut engine, &runtime);
        {
            let mut api = Api::new(&mut engine, &mut docs);
            register_all(&mut api, &runtime);
        }
        super::stdlib::register(&mut engine);
        engine
    }

    /// A copy of this session to try a cell in: the same variables and cell functions, the same
    /// data settings, but its own home (so nothing reaches this session's store) and its own
    /// interrupt flag and outputs.
    pub fn scratch(&self, home: &std::path::Path) -> Session {
        let mut cfg = self.runtime.config.clone();
        cfg.home = home.to_path_buf();
        let mut s = Session::new(cfg);
        s.scope = self.scope.clone();
        s.lib = self.lib.clone();
        s.cells = self.cells;
        s
    }

    /// The cells run so far (oldest first) with the error of each that failed.
    pub fn history(&self) -> &[(String, Option<String>)] {
        &self.history
    }

    /// A session configured from the environment.
    pub fn from_env() -> Session {
        Session::new(Config::from_env())
    }

    /// Sets the LLM settings `llm_decide` (and `%ai`) use instead of the environment's.
    pub fn set_llm_config(&self, cfg: crate::llm::LlmConfig) {
        *self.runtime.llm.write().unwrap_or_else(|e| e.into_inner()) = Some(cfg);
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    pub fn docs(&self) -> &Docs {
        &self.docs
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sends outputs of the following cells to `sink` (print, display, progress, ...).
    pub fn set_sink(&self, sink: impl FnMut(Output) + Send + 'static) {
        self.runtime.emitter.set_sink(Some(Box::new(sink)));
    }

    /// Stops the running cell (safe to call from any thread).
    pub fn interrupt_handle(&self) -> crate::cancel::Cancel {
        self.runtime.cancel.clone()
    }

    /// Counts a cell the host ran itself (a `%%rust` cell), so `cell[N]` in later errors stays the
    /// notebook's execution count.
    pub fn count_cell(&mut self) {
        self.cells += 1;
    }

    /// Runs a cell. Variables, functions and closures persist for later cells.
    pub fn execute(&mut self, code: &str) -> Result<ExecResult, CellError> {
        self.runtime.cancel.reset();
        // Every cell counts, help requests and `%ai` included, so `cell[N]` in an error is the
        // notebook's execution count.
        self.cells += 1;
        if let Some(page) = self.pager_request(code) {
            return Ok(ExecResult {
                value: None,
                page: Some(page),
                next_input: None,
            });
        }
        if let Some(rest) = super::ai::magic(code) {
            return super::ai::run(self, rest);
        }
        if let Some(w) = self
            .runtime
            .startup_warning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            self.runtime.emitter.stderr(w);
        }
        // Runs that an earlier cell queued for the store and that could not be written.
        for f in crate::store::background::take_failures() {
            self.runtime.emitter.stderr(format!("warning: {f}\n"));
        }
        let name = format!("cell[{}]", self.cells);
        let suppress = code.trim_end().ends_with(';');
        let result = self.run(&name, code);
        self.compact_scope();
        self.history.push((
            code.to_string(),
            result.as_ref().err().map(|e| e.evalue.clone()),
        ));
        let value = result?;
        if suppress || value.is_unit() {
            return Ok(ExecResult::default());
        }
        // A running simulation's card keeps updating after the cell (where the host can).
        if let Some(sim) = value.read_lock::<super::sim_api::SimValue>()
            && super::sim_api::show_live(&self.runtime, &sim)
        {
            return Ok(ExecResult::default());
        }
        // A value shown as several outputs (a tear sheet) displays all but the last now.
        let mut shown = render::render_all(&value);
        let last = shown.pop();
        for b in shown {
            self.runtime.emitter.display(b, None);
        }
        Ok(ExecResult {
            value: last,
            page: None,
            next_input: None,
        })
    }

    /// Adds script functions (`fn name(…) { … }`) to the session without running a cell: the
    /// kernel defines the Rhai names of functions a Rust cell compiled this way. A function of the
    /// same name and arity defined earlier is replaced.
    pub fn define_functions(&mut self, code: &str) -> Result<(), CellError> {
        let name = "rust-functions";
        let ast = match self.engine.compile(code) {
            Ok(ast) => ast,
            Err(e) => return Err(errors::from_parse(&e, &self.context(name, code))),
        };
        self.lib += ast.clone_functions_only();
        Ok(())
    }

    /// Evaluates an expression against the session's variables (Jupyter `user_expressions`).
    pub fn eval_expression(&mut self, expr: &str) -> Result<MimeBundle, CellError> {
        let v = self.run("expression", expr)?;
        Ok(render::render(&v))
    }

    fn run(&mut self, name: &str, code: &str) -> Result<Dynamic, CellError> {
        check_cell_size(code)?;
        self.sources.0.insert(name.to_string(), code.to_string());
        let mut ast = match self.compile(code) {
            Ok(ast) => ast,
            Err(e) => return Err(errors::from_parse(&e, &self.context(name, code))),
        };
        ast.set_source(name);
        self.lib += ast.clone_functions_only();
        let run = self.lib.merge(&ast);
        let engine = &self.engine;
        let scope = &mut self.scope;
        let before = scope.len();
        self.runtime.budget.start_cell();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            engine.eval_ast_with_scope::<Dynamic>(scope, &run)
        }));
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if over_budget(&e) => {
                // The variables this cell declared hold what broke the budget: drop them, so the
                // session is back to what it held before the cell.
                self.scope.rewind(before);
                Err(errors::from_eval(&e, &self.context(name, code)))
            }
            Ok(Err(e)) => Err(errors::from_eval(&e, &self.context(name, code))),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a built-in function panicked".into());
                Err(errors::internal(&format!(
                    "a built-in function failed: {msg}"
                )))
            }
        }
    }

    /// Compiles a cell (a large one without the optimizer: see `OPTIMIZE_BELOW_BYTES`).
    fn compile(&mut self, code: &str) -> Result<AST, rhai::ParseError> {
        if code.len() < OPTIMIZE_BELOW_BYTES {
            return self.engine.compile_with_scope(&self.scope, code);
        }
        let level = self.engine.optimization_level();
        self.engine.set_optimization_level(OptimizationLevel::None);
        let ast = self.engine.compile_with_scope(&self.scope, code);
        self.engine.set_optimization_level(level);
        ast
    }

    fn context<'a>(&'a self, name: &'a str, code: &'a str) -> errors::Context<'a> {
        errors::Context {
            docs: &self.docs,
            cell_name: name,
            code,
            sources: &self.sources,
            variables: self.variable_names(),
            script_fns: self
                .lib
                .iter_functions()
                .map(|f| f.name.to_string())
                .collect(),
        }
    }

    /// Keeps only the newest of shadowed variables, so re-running cells does not grow memory.
    fn compact_scope(&mut self) {
        let mut seen = std::collections::HashSet::new();
        let mut keep: Vec<(String, bool, Dynamic)> = Vec::new();
        for (name, is_const, value) in self.scope.iter_raw() {
            if seen.insert(name.to_string()) {
                keep.push((name.to_string(), is_const, value.clone()));
            }
        }
        if keep.len() == self.scope.len() {
            return;
        }
        self.scope.clear();
        for (name, is_const, value) in keep.into_iter().rev() {
            if is_const {
                self.scope.push_constant_dynamic(name, value);
            } else {
                self.scope.push_dynamic(name, value);
            }
        }
    }

    /// Names of the variables in scope (newest first, no duplicates).
    pub fn variable_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, _, _) in self.scope.iter_raw() {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// A variable's value.
    pub fn variable(&self, name: &str) -> Option<Dynamic> {
        self.scope.get_value::<Dynamic>(name)
    }

    /// Names and parameter lists of functions defined by cells.
    pub fn script_functions(&self) -> Vec<(String, Vec<String>, String)> {
        self.lib
            .iter_functions()
            .map(|f| {
                // Rhai merges consecutive `///` lines into one comment: strip the marker of
                // every line, not only the first.
                let doc = f
                    .comments
                    .iter()
                    .flat_map(|c| c.lines())
                    .map(|l| {
                        let l = l.trim();
                        l.strip_prefix("///")
                            .or_else(|| l.strip_prefix("//!"))
                            .or_else(|| l.strip_prefix("/**"))
                            .unwrap_or(l)
                            .trim_end_matches("*/")
                            .trim_start_matches('*')
                            .trim()
                    })
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                (
                    f.name.to_string(),
                    f.params.iter().map(|p| p.to_string()).collect(),
                    doc,
                )
            })
            .collect()
    }

    /// `?name` or `name?` as a whole cell opens the pager with the name's help.
    fn pager_request(&self, code: &str) -> Option<String> {
        let t = code.trim();
        let name = t.strip_prefix('?').or_else(|| t.strip_suffix('?'))?.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == ':')
        {
            return None;
        }
        Some(
            self.describe(name)
                .unwrap_or_else(|| format!("no help for '{name}'; help() lists the built-ins")),
        )
    }

    /// Help text for a built-in, a cell function or a variable.
    pub fn describe(&self, name: &str) -> Option<String> {
        complete::describe(self, name)
    }

    /// Jupyter `is_complete`, from the parser.
    pub fn is_complete(&self, code: &str) -> Completeness {
        if code.trim().is_empty() {
            return Completeness::Complete;
        }
        // Too large to parse in bounded time: complete, and `execute` says why it is refused.
        if check_cell_size(code).is_err() {
            return Completeness::Complete;
        }
        match self.engine.compile_with_scope(&self.scope, code) {
            Ok(_) => Completeness::Complete,
            Err(e) => {
                let last = last_non_ws_position(code);
                let incomplete = match e.err_type() {
                    ParseErrorType::UnexpectedEOF => true,
                    ParseErrorType::BadInput(LexError::UnterminatedString) => true,
                    _ => after(e.position(), last),
                };
                if incomplete {
                    let depth = code
                        .matches(['{', '[', '('])
                        .count()
                        .saturating_sub(code.matches(['}', ']', ')']).count());
                    Completeness::Incomplete("    ".repeat(depth.max(1)))
                } else {
                    Completeness::Invalid
                }
            }
        }
    }

    /// Completion at a cursor (in characters).
    pub fn complete(&self, code: &str, cursor: usize) -> Completion {
        complete::complete(self, code, cursor)
    }

    /// Help for the name under the cursor (inspect / shift-tab).
    pub fn inspect(&self, code: &str, cursor: usize) -> Option<String> {
        complete::inspect(self, code, cursor)
    }
}

/// Refuses a cell too large to parse in bounded time, or whose lines Rhai cannot number.
fn check_cell_size(code: &str) -> Result<(), CellError> {
    if code.len() > MAX_CELL_BYTES {
        return Err(errors::limit(
            &format!(
                "the cell is {} KB; a cell may have at most {} KB",
                code.len() >> 10,
                MAX_CELL_BYTES >> 10
            ),
            "put data in a file and read it (read_csv), or split the cell",
        ));
    }
    let lines = code.lines().count();
    if lines > MAX_CELL_LINES {
        return Err(errors::limit(
            &format!("the cell has {lines} lines; a cell may have at most {MAX_CELL_LINES}"),
            "split the cell, or put data in a file and read it (read_csv)",
        ));
    }
    let declarations = declarations(code);
    if declarations > MAX_CELL_DECLARATIONS {
        return Err(errors::limit(
            &format!(
                "the cell declares {declarations} variables (let/const); a cell may declare at most {MAX_CELL_DECLARATIONS}"
            ),
            "keep many values in an array or a map",
        ));
    }
    Ok(())
}

/// `let` and `const` words in a cell (an upper bound on its declarations: words in strings and
/// comments count too).
fn declarations(code: &str) -> usize {
    let b = code.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut n = 0;
    for kw in ["let", "const"] {
        for (i, _) in code.match_indices(kw) {
            let before = i == 0 || !word(b[i - 1]);
            let after = b.get(i + kw.len()).is_none_or(|&c| !word(c));
            n += usize::from(before && after);
        }
    }
    n
}

/// Whether a cell was stopped by the memory budget (not by an interrupt).
fn over_budget(e: &rhai::EvalAltResult) -> bool {
    matches!(e, rhai::EvalAltResult::ErrorTerminated(t, _)
        if t.clone().into_string().is_ok_and(|s| s != INTERRUPTED))
}

fn after(p: Position, last: (usize, usize)) -> bool {
    match (p.line(), p.position()) {
        (Some(l), Some(c)) => (l, c) > last,
        (Some(l), None) => l > last.0,
        _ => true, // no position: end of input
    }
}

/// (line, column) of the last non-whitespace character, 1-based, in characters.
fn last_non_ws_position(code: &str) -> (usize, usize) {
    let mut last = (0, 0);
    for (i, line) in code.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some((j, _)) = line
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .last()
        {
            last = (i + 1, j + 1);
        }
    }
    last
}

fn configure(engine: &mut Engine, runtime: &Arc<Runtime>) {
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_string_size(0)
        .set_max_array_size(0)
        .set_max_map_size(0)
        .set_max_expr_depths(128, 64)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(false);
    engine.disable_symbol("eval");
    // No file system: `import` only reaches the embedded standard library.
    engine.set_module_resolver(super::stdlib::resolver());
    let rt = runtime.clone();
    engine.on_print(move |s| rt.emitter.stdout(format!("{s}\n")));
    let rt = runtime.clone();
    engine.on_debug(move |s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(l)) => format!("[{src}:{l}] "),
            (None, Some(l)) => format!("[line {l}] "),
            _ => String::new(),
        };
        rt.emitter.stderr(format!("{at}{s}\n"));
    });
    register_sized_builtins(engine, runtime);
    let rt = runtime.clone();
    engine.on_progress(move |ops| {
        if rt.cancel.is_cancelled() {
            return Some(Dynamic::from(INTERRUPTED));
        }
        rt.budget
            .check(ops)
            .err()
            .map(|e| Dynamic::from(e.to_string()))
    });
}

/// Rhai's built-ins that allocate a size they are given (`pad`, `blob(n)`) in one operation:
/// checked against the memory budget before they allocate, since the budget is otherwise checked
/// only between operations. Registered on the engine, they take precedence over Rhai's own.
fn register_sized_builtins(engine: &mut Engine, runtime: &Arc<Runtime>) {
    use rhai::{Array, Blob, EvalAltResult, FLOAT, INT, ImmutableString};
    // Rhai's own `sleep(seconds)` blocks the thread where no interrupt reaches it (a
    // `sleep(1000)` holds the cell for 17 minutes): the same pause in slices that watch the flag.
    let rt = runtime.clone();
    let nap = move |secs: FLOAT| -> Result<(), Box<EvalAltResult>> {
        if secs.is_nan() || secs <= 0.0 {
            return Ok(());
        }
        let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs.min(1e9));
        loop {
            if rt.cancel.is_cancelled() {
                return Err(Box::new(EvalAltResult::ErrorTerminated(
                    Dynamic::from(INTERRUPTED),
                    rhai::Position::NONE,
                )));
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
        }
    };
    let n = nap.clone();
    engine.register_fn("sleep", move |s: INT| n(s as FLOAT));
    engine.register_fn("sleep", move |s: FLOAT| nap(s));
    fn room(rt: &Runtime, len: INT, each: usize) -> Result<usize, Box<EvalAltResult>> {
        let len = usize::try_from(len.max(0)).unwrap_or(usize::MAX);
        let want = (len as u64).saturating_mul(each as u64);
        let limit = rt.budget.limit();
        if limit > 0 && crate::memory::in_use().saturating_add(want) > limit {
            return Err(format!(
                "memory budget exceeded: {len} elements need {} MB, more than STRATBOOK_MAX_MEMORY ({} MB) allows",
                want >> 20,
                limit >> 20
            )
            .into());
        }
        Ok(len)
    }
    let dynamic = std::mem::size_of::<Dynamic>();
    let rt = runtime.clone();
    engine.register_fn(
        "pad",
        move |a: &mut Array, len: INT, item: Dynamic| -> Result<(), Box<EvalAltResult>> {
            let n = room(&rt, len, dynamic)?;
            if n > a.len() {
                a.resize(n, item);
            }
            Ok(())
        },
    );
    let rt = runtime.clone();
    engine.register_fn(
        "pad",
        move |s: &mut ImmutableString, len: INT, c: char| -> Result<(), Box<EvalAltResult>> {
            let n = room(&rt, len, c.len_utf8())?;
            let have = s.chars().count();
            if n > have {
                let mut t = s.to_string();
                t.extend(std::iter::repeat_n(c, n - have));
                *s = t.into();
            }
            Ok(())
        },
    );
    let rt = runtime.clone();
    engine.register_fn(
        "pad",
        move |s: &mut ImmutableString, len: INT, p: &str| -> Result<(), Box<EvalAltResult>> {
            let n = room(&rt, len, p.len().max(1))?;
            let have = s.chars().count();
            if n > have && !p.is_empty() {
                let mut t = s.to_string();
                let mut count = have;
                'outer: loop {
                    for c in p.chars() {
                        if count >= n {
                            break 'outer;
                        }
                        t.push(c);
                        count += 1;
                    }
                }
                *s = t.into();
            }
            Ok(())
        },
    );
    let rt = runtime.clone();
    engine.register_fn(
        "blob",
        move |len: INT| -> Result<Blob, Box<EvalAltResult>> { Ok(vec![0; room(&rt, len, 1)?]) },
    );
    let rt = runtime.clone();
    engine.register_fn(
        "blob",
        move |len: INT, v: INT| -> Result<Blob, Box<EvalAltResult>> {
            Ok(vec![(v & 0xff) as u8; room(&rt, len, 1)?])
        },
    );
    let rt = runtime.clone();
    engine.register_fn(
        "pad",
        move |b: &mut Blob, len: INT, v: INT| -> Result<(), Box<EvalAltResult>> {
            let n = room(&rt, len, 1)?;
            if n > b.len() {
                b.resize(n, (v & 0xff) as u8);
            }
            Ok(())
        },
    );
}
