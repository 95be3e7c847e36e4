//! The options of a live feed (`simulate("demo:BTC" | "<address>-<chain>", ..)`): interval,
//! warm-up, duration, polling, the accelerated clock.

use super::*;

/// A duration: seconds as a number, or `"90s"`, `"10m"`, `"2h"`, `"1d"`.
fn span_secs(v: &Dynamic, key: &str) -> RhaiResult<i64> {
    let bad = || {
        rt_err(format!(
            "{key} must be seconds (e.g. 600) or a duration such as \"10m\", \"2h\", \"1d\""
        ))
    };
    if let Ok(n) = v.as_int() {
        return if n > 0 { Ok(n) } else { Err(bad()) };
    }
    if let Ok(x) = v.as_float() {
        return if x > 0.0 {
            Ok(x.ceil() as i64)
        } else {
            Err(bad())
        };
    }
    let s = v.clone().into_string().map_err(|_| bad())?;
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?);
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    if n.is_nan() || n <= 0.0 {
        return Err(bad());
    }
    Ok((n * mult).ceil() as i64)
}

/// The live feed `simulate(id, ..)` reads: the demo series or an AVE token on a (possibly
/// accelerated) wall clock. `resume`: the first live bar and the end of the simulation resumed,
/// which replace the clock's start and `max_duration` / `until`.
pub(super) fn live_feed(
    rt: &Runtime,
    src: &str,
    o: &Map,
    resume: Option<(i64, Option<i64>)>,
) -> RhaiResult<LiveFeed> {
    use crate::data::ids::DataId;
    let interval = match o.get("interval") {
        None => crate::interval::Interval::parse("1m"),
        Some(v) => crate::interval::Interval::parse(
            &v.clone()
                .into_string()
                .map_err(|_| rt_err("interval must be a string such as \"1m\" or \"1h\""))?,
        ),
    }
    .map_err(sim_err)?;
    let warmup = match o.get("warmup") {
        None => 200,
        Some(v) => match v.as_int() {
            Ok(n) if (0..=100_000).contains(&n) => n as usize,
            _ => return Err(rt_err("warmup must be a number of bars from 0 to 100000")),
        },
    };
    let speed = match o.get("clock_speed") {
        None => 1.0,
        Some(v) => {
            let x = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|_| {
                    rt_err("clock_speed must be a positive number (simulated seconds per second)")
                })?;
            if !(x > 0.0 && x <= 1e6) {
                return Err(rt_err(
                    "clock_speed must be a positive number up to 1000000",
                ));
            }
            x
        }
    };
    let clock = match o.get("clock_origin") {
        None => Clock::starting_now(speed),
        Some(v) => Clock::new(
            v.as_int()
                .map_err(|_| rt_err("clock_origin must be unix seconds (for tests)"))?,
            speed,
        ),
    };
    let now = clock.now().floor() as i64;
    let mut end = None::<i64>;
    if let Some(v) = o.get("max_duration") {
        end = Some(now + span_secs(v, "max_duration")?);
    }
    if let Some(v) = o.get("until") {
        let t = match v.as_int() {
            Ok(t) => t,
            Err(_) => crate::time::parse_time(&v.clone().into_string().map_err(|_| {
                rt_err("until must be a time: unix seconds or \"YYYY-MM-DD HH:MM\" (UTC)")
            })?)
            .map_err(sim_err)?,
        };
        if t <= now && resume.is_none() {
            return Err(rt_err(format!(
                "until ({}) has already passed",
                crate::time::format_time(t)
            )));
        }
        end = Some(end.map_or(t, |e| e.min(t)));
    }
    let marks = match o.get("marks") {
        None => true,
        Some(v) => v
            .as_bool()
            .map_err(|_| rt_err("marks must be true or false"))?,
    };
    // The first live bar is the one forming at `now`, the time `max_duration` counts from
    // (the feed is built a moment later: a bar that closes meanwhile is caught up, not lost
    // between the two clocks).
    let start = resume.map_or(Some(now), |(s, _)| Some(s));
    if let Some((_, e)) = resume {
        end = e;
    }
    match DataId::parse(src).map_err(sim_err)? {
        DataId::Demo(name) => {
            for k in ["poll_s", "feed"] {
                if o.contains_key(k) {
                    return Err(rt_err(format!(
                        "{k} is for AVE token ids; the demo feed has each bar as soon as it closes"
                    )));
                }
            }
            let synth = crate::data::demo::Synth::demo(&name).map_err(sim_err)?;
            LiveFeed::new(
                &format!("demo:{}", synth.profile.name),
                interval,
                Box::new(DemoSource(synth)),
                clock,
                warmup,
                end,
                std::time::Duration::ZERO,
                start,
            )
            .map_err(sim_err)
        }
        DataId::Ave(_) => {
            let wire = crate::data::ids::parse_ave(src).map_err(sim_err)?.wire();
            // At most one request per poll, never faster than the plan's rate limit.
            let floor = 1.0 / rt.config.requests_per_second().max(0.001);
            let poll_s = match o.get("poll_s") {
                None => 60.0,
                Some(v) => v
                    .as_float()
                    .or_else(|_| v.as_int().map(|i| i as f64))
                    .ok()
                    .filter(|x| *x > 0.0)
                    .ok_or_else(|| rt_err("poll_s must be a positive number of seconds"))?,
            };
            let poll = std::time::Duration::from_secs_f64((poll_s / speed).max(floor));
            let pro = rt.config.plan == crate::data::config::Plan::Pro;
            let streamed = crate::sim::ws::streamed(interval);
            let ws = match o.get("feed") {
                None => pro && streamed,
                Some(v) => match v.clone().into_string().ok().as_deref() {
                    Some("rest") => false,
                    Some("ws") => {
                        if !pro {
                            return Err(rt_err(
                                "feed: \"ws\" streams klines over AVE's WebSocket, which is the Pro plan's: set AVE_API_PLAN=pro, or poll with feed: \"rest\"",
                            ));
                        }
                        if !streamed {
                            return Err(rt_err(format!(
                                "AVE streams klines at {} only, not {}; use one of those or feed: \"rest\"",
                                crate::sim::ws::streamed_names(),
                                interval.name()
                            )));
                        }
                        true
                    }
                    _ => {
                        return Err(rt_err(
                            "feed must be \"ws\" (AVE's WebSocket stream, Pro plan) or \"rest\" (polling)",
                        ));
                    }
                },
            };
            let client = crate::data::service::DataService::new(rt.config.clone())
                .client("live klines")
                .map_err(sim_err)?;
            let rest = crate::sim::live::AveSource::new(
                client,
                format!("{}{wire}", crate::data::ids::Kind::Token.path()),
            );
            let (source, poll): (Box<dyn crate::sim::live::BarSource>, _) = if ws {
                crate::sim::ws::check_url(&rt.config.ws_base).map_err(sim_err)?;
                let stream = crate::sim::ws::WsSource::new(
                    rest,
                    &rt.config.ws_base,
                    rt.config.api_key.clone(),
                    interval,
                    clock,
                    poll,
                );
                // The stream has each bar as it closes: the feed asks again soon after an
                // empty answer (a bar without trades), from memory.
                (Box::new(stream), std::time::Duration::from_millis(100))
            } else {
                (Box::new(rest), poll)
            };
            let mut feed = LiveFeed::new(
                &wire,
                interval,
                source,
                clock,
                warmup.min(1000),
                end,
                poll,
                start,
            )
            .map_err(sim_err)?;
            feed.marks = marks;
            // Polled bars longer than the polling period: prices in between, as often.
            if marks && !ws && poll_s < interval.seconds() as f64 {
                feed.marks_every = Some(poll);
            }
            Ok(feed)
        }
    }
}
