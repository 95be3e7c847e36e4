//! What `llm_decide` costs a backtest beyond the model: 2,000 hourly bars with a decision on every
//! bar, answers served from the cache (`llm: "replay"`, after one run against the mock Anthropic
//! server filled it), next to the same interpreted `on_bar` acting on a constant `hold`. The
//! difference per decision is the agent's overhead: options, prompt, cache lookup, parse, risk,
//! log. Target: under 50 µs. Run: `cargo bench -p stratbook-tests --bench llm_decide`.

use dsl::data::config::Config;
use dsl::script::Session;
use std::time::{Duration, Instant};
use stratbook_tests::{MockLlm, Reply, mock_llm_config};

const BARS: usize = 2000;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn time(s: &mut Session, code: &str, runs: usize) -> f64 {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        if let Err(e) = s.execute(code) {
            panic!("{}", e.traceback.join("\n"));
        }
        v.push(t.elapsed());
    }
    median(v)
}

fn main() {
    let home = tempfile::tempdir().expect("temp dir");
    let mock = MockLlm::start();
    mock.respond_with(|req| {
        let p = req["messages"][0]["content"].as_str().unwrap_or("");
        let a = if p.contains("position: flat") { "buy" } else { "hold" };
        Reply::text(format!(
            "{{\"action\": \"{a}\", \"size_pct\": 20, \"confidence\": 0.7, \"reasoning\": \"bench\"}}"
        ))
    });
    let mut cfg = Config::for_home(home.path());
    cfg.offline = false;
    let mut s = Session::new(cfg);
    s.set_llm_config(mock_llm_config(&mock));
    s.execute(&format!(
        r#"let bars = klines("demo:BTC", "1h", #{{ limit: {BARS} }});
           let rsi14 = rsi(bars.close, 14);
           let agent = strategy(#{{ on_bar: |ctx| {{
               ctx.act(llm_decide(ctx, #{{ instructions: "bench", indicators: #{{ rsi14: rsi14 }}, timeframes: ["4h"] }}));
           }} }});
           let base = strategy(#{{ on_bar: |ctx| {{ ctx.act(#{{ action: "hold" }}); }} }});
           let fill = backtest(bars, agent, #{{ max_calls: {BARS}, save: false }});"#
    ))
    .expect("the filling run");
    let asked = mock.requests();
    let cached = time(
        &mut s,
        "let r = backtest(bars, agent, #{ llm: \"replay\", save: false });",
        7,
    );
    assert_eq!(mock.requests(), asked, "the cached runs asked the model");
    let baseline = time(&mut s, "let r = backtest(bars, base, #{ save: false });", 7);
    let per = (cached - baseline) / BARS as f64 * 1e6;
    println!("llm_decide overhead, {BARS} bars, one decision per bar, answers from the cache");
    println!("  filling run asked the model {asked} times");
    println!("  backtest with cached decisions  {:>9.2} ms", cached * 1e3);
    println!(
        "  same on_bar acting on a hold    {:>9.2} ms",
        baseline * 1e3
    );
    println!("  overhead per decision           {per:>9.1} µs (target < 50)");
}
