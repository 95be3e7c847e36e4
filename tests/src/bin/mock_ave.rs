//! `mock-ave [--port N] [--key KEY]`: runs the mock AVE server on 127.0.0.1 and prints its base
//! URL (`http://127.0.0.1:PORT`) as the first line of stdout, for Python tests and benchmarks.
//! The key defaults to `MOCK_AVE_KEY` or the built-in test key. Runs until killed.

use std::io::Write;
use stratbook_tests::{MOCK_KEY, MockAve};

fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut key = std::env::var("MOCK_AVE_KEY").unwrap_or_else(|_| MOCK_KEY.to_string());
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
            "-h" | "--help" => {
                println!("usage: mock-ave [--port N] [--key KEY]");
                return Ok(());
            }
            other => {
                anyhow::bail!("unknown argument '{other}'; usage: mock-ave [--port N] [--key KEY]")
            }
        }
    }
    let mock = MockAve::start_on(&key, port)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", mock.url())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
