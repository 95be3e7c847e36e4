//! `mock-ave [--port N] [--key KEY]`: runs the mock AVE server on 127.0.0.1 and prints its base
//! URL (`http://127.0.0.1:PORT`) as the first line of stdout, for Python tests and benchmarks.
//! The key defaults to `MOCK_AVE_KEY` or the built-in test key. Runs until killed.
//! `--clock-speed S [--clock-origin T]` runs its klines on an accelerated clock (time reads
//! `T + (wall - T) * S`, T defaulting to the start), for live simulations in tests and demos.

use std::io::Write;
use stratbook_tests::{MOCK_KEY, MockAve};

fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut key = std::env::var("MOCK_AVE_KEY").unwrap_or_else(|_| MOCK_KEY.to_string());
    let mut clock: Option<f64> = None;
    let mut origin: Option<i64> = None;
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
            "--clock-speed" => {
                clock = Some(
                    args.next()
                        .and_then(|p| p.parse().ok())
                        .filter(|x: &f64| *x > 0.0)
                        .ok_or_else(|| anyhow::anyhow!("--clock-speed needs a positive number"))?,
                )
            }
            "--clock-origin" => {
                origin = Some(
                    args.next()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| anyhow::anyhow!("--clock-origin needs unix seconds"))?,
                )
            }
            "-h" | "--help" => {
                println!(
                    "usage: mock-ave [--port N] [--key KEY] [--clock-speed S [--clock-origin T]]"
                );
                return Ok(());
            }
            other => {
                anyhow::bail!("unknown argument '{other}'; usage: mock-ave [--port N] [--key KEY]")
            }
        }
    }
    let mock = MockAve::start_on(&key, port)?;
    if let Some(speed) = clock {
        let origin = origin.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
        mock.set_clock(origin, speed);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", mock.url())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
