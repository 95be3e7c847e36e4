//! `mock-llm [--port N] [--key KEY] [--agent rsi]`: runs the mock Anthropic Messages server on 127.0.0.1 and
//! prints its base URL as the first line of stdout, for Python tests. The key defaults to
//! `MOCK_LLM_KEY` or the built-in test key. Script it over HTTP (`POST /_mock/replies`,
//! `GET /_mock/requests`, `POST /_mock/reset`; see `stratbook_tests::mock_llm`); `--agent rsi`
//! answers `llm_decide` prompts with the scripted `rsi_agent`. Runs until killed.

use std::io::Write;
use stratbook_tests::{MOCK_LLM_KEY, MockLlm};

fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut agent = false;
    let mut key = std::env::var("MOCK_LLM_KEY").unwrap_or_else(|_| MOCK_LLM_KEY.to_string());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("--port needs a number"))?
            }
            "--key" => {
                key = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--key needs a value"))?
            }
            "--agent" => match args.next().as_deref() {
                Some("rsi") => agent = true,
                _ => anyhow::bail!("--agent takes: rsi"),
            },
            "-h" | "--help" => {
                println!("usage: mock-llm [--port N] [--key KEY] [--agent rsi]");
                return Ok(());
            }
            other => {
                anyhow::bail!("unknown argument '{other}'; usage: mock-llm [--port N] [--key KEY]")
            }
        }
    }
    let mock = MockLlm::start_on(&key, port)?;
    if agent {
        mock.respond_with(stratbook_tests::mock_llm::rsi_agent);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", mock.url())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
