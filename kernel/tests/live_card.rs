//! A running simulation shown as a cell's value keeps updating in place after that cell ended:
//! update_display_data for the card's display id, parented to the cell that showed it (JupyterLab
//! routes iopub by parent), at most once a second, while another cell runs, until the final state.

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio::time::timeout;

#[tokio::test]
async fn a_simulation_card_updates_after_its_cell_while_another_cell_runs() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    // 40 one-minute bars on a clock running 600x: about four seconds.
    let first = c
        .send_shell(
            "execute_request",
            execute_content(
                r#"let sm = simulate("demo:BTC", strategy(#{ on_bar: |ctx| {
                       if ctx.close() > ctx.open() { ctx.buy(#{ size_pct: 50 }) } else { ctx.exit() } } }),
                       #{ interval: "1m", warmup: 10, clock_speed: 600, max_duration: "40m", name: "card" });
                   sm"#,
            ),
        )
        .await;
    let reply = c.shell_reply(&first).await;
    assert_eq!(reply.content["status"], "ok", "{:?}", reply.content);
    let outs = c.outputs(&first).await;
    assert!(
        outs.iter().all(|m| m.msg_type != "execute_result"),
        "a live card is a display, not a result: {outs:?}"
    );
    let card = outs
        .iter()
        .find(|m| m.msg_type == "display_data")
        .expect("the card is shown");
    let display_id = card.content["transient"]["display_id"]
        .as_str()
        .expect("the card has a display id")
        .to_string();
    assert!(card.content["data"]["text/html"].is_string());

    // Another cell runs until the simulation ends; the card updates meanwhile.
    let second = c
        .send_shell("execute_request", execute_content("sm.wait(); 7"))
        .await;
    let started = Instant::now();
    let mut updates: Vec<(Duration, String)> = Vec::new();
    let mut second_done = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no final card: {updates:?}");
        let wait = match second_done {
            // After the second cell: the last update is at most a period (1 s) behind.
            Some(_) => Duration::from_secs(3),
            None => WAIT,
        };
        let Ok(m) = timeout(wait, recv(&mut c.iopub)).await else {
            break;
        };
        if m.msg_type == "update_display_data" {
            assert_eq!(
                m.parent, first,
                "an update goes to the cell that showed the card"
            );
            assert_eq!(m.content["transient"]["display_id"], display_id.as_str());
            let text = m.content["data"]["text/plain"]
                .as_str()
                .unwrap_or("")
                .to_string();
            updates.push((started.elapsed(), text));
            if updates.last().is_some_and(|(_, t)| t.contains("finished")) {
                break;
            }
        }
        if m.parent == second && m.msg_type == "status" && m.content["execution_state"] == "idle" {
            second_done = Some(started.elapsed());
        }
    }
    let second_done = second_done.expect("the second cell ended");
    for (t, text) in &updates {
        eprintln!(
            "{:>6.2} s  {}",
            t.as_secs_f64(),
            text.lines().next().unwrap_or("")
        );
    }
    eprintln!("second cell ended at {:.2} s", second_done.as_secs_f64());
    let during = updates.iter().filter(|(t, _)| *t < second_done).count();
    assert!(
        during >= 2,
        "at least two updates while the other cell ran ({second_done:?}): {updates:?}"
    );
    let (_, last) = updates.last().expect("updates");
    assert!(
        last.contains("finished"),
        "the final state is shown: {last}"
    );
    // Throttled: no two updates less than most of a period apart.
    for w in updates.windows(2) {
        assert!(
            w[1].0 - w[0].0 > Duration::from_millis(700),
            "updates too close: {updates:?}"
        );
    }
    // The kernel still answers, and the headless value of a finished simulation is its card text.
    let (_, outs) = c.execute("sm.status").await;
    assert_eq!(result_text(&outs).as_deref(), Some("\"finished\""));
}
