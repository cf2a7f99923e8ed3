//! `osilab simulate SCENARIO`: load the scenario, build the world, run it to the end time, and
//! print the timeline and summary (or JSON, or a ladder diagram in SVG, or one event's layer
//! view); pcaps per link on request. `--from` leaves out the events before a time (the run still
//! starts at zero: what happened before shapes what follows).

use super::args::SimulateArgs;
use super::config_err;
use crate::error::Result;
use crate::render::ladder::{ladder, Ladder, Topology, MAX_EVENTS};
use crate::sim::build::build;
use crate::sim::scenario::{self, units::parse_duration};
use crate::sim::summary::Summary;
use crate::sim::world::World;
use crate::time::Instant;

/// Run a scenario as the arguments say; the text to print.
pub fn simulate(a: &SimulateArgs) -> Result<String> {
    let format = match a.format.as_str() {
        "timeline" | "json" | "svg" => a.format.as_str(),
        other => return Err(config_err(format!("--format {other:?}: choose timeline, json or svg"))),
    };
    let until = match &a.until {
        Some(t) => Some(parse_duration(t).map_err(|e| config_err(format!("--until {t:?}: {e}")))?),
        None => None,
    };
    let from = match &a.from {
        Some(t) => parse_duration(t).map_err(|e| config_err(format!("--from {t:?}: {e}")))?,
        None => std::time::Duration::ZERO,
    };
    let sc = scenario::load(&a.scenario)?;
    let seed = a.seed.unwrap_or(sc.seed);
    let until = until.unwrap_or(sc.until);
    if from > until {
        return Err(config_err(format!(
            "--from {} is after the end of the run ({} s): give a later --until",
            a.from.as_deref().unwrap_or(""),
            crate::sim::timeline::seconds(Instant::ZERO + until)
        )));
    }
    let from = Instant::ZERO + from;
    let world = run(&sc, seed, Instant::ZERO + until)?;
    if let Some(dir) = &a.pcap_dir {
        for p in world.write_pcaps(dir)? {
            eprintln!("osilab: wrote {}", p.display());
        }
    }
    if let Some(n) = a.inspect {
        return world.timeline.inspect(n).ok_or_else(|| {
            config_err(format!("--inspect {n}: the run has events 1 to {}", world.timeline.rows.len()))
        });
    }
    if format == "svg" {
        let mut command = format!("osilab simulate {}", a.scenario.display());
        if let Some(s) = a.seed {
            command.push_str(&format!(" --seed {s}"));
        }
        return Ok(svg(&sc, seed, &world, from, command));
    }
    let summary = Summary::of(&world);
    let first = world.timeline.rows.partition_point(|r| r.at < from);
    let shown = &world.timeline.rows[first..];
    Ok(match format {
        "json" => json(&sc, seed, until, shown, &summary)?,
        _ => {
            let mut s = format!("Scenario {} (seed {seed}): {}\n\n", sc.name, sc.description);
            if first > 0 {
                s.push_str(&format!(
                    "(from {} s: {first} earlier events not shown)\n",
                    crate::sim::timeline::seconds(from)
                ));
            }
            s.push_str(&crate::sim::timeline::Timeline { rows: shown.to_vec() }.text());
            s.push_str(&summary.text());
            s
        }
    })
}

/// The ladder diagram of a run, from `from` on (at most [`MAX_EVENTS`] events); `command` is
/// what the footer tells the reader to run for `--inspect`.
pub fn svg(sc: &scenario::Scenario, seed: u64, world: &World, from: Instant, command: String) -> String {
    let topology = Topology::of(sc, world);
    ladder(&Ladder {
        title: format!("Scenario {}", sc.name),
        description: sc.description.clone(),
        seed,
        topology: &topology,
        rows: &world.timeline.rows,
        from,
        max_events: MAX_EVENTS,
        command,
    })
}

/// The JSON form of a run: the scenario, its seed and end time, the events (`rows`) and the
/// summary.
pub fn json(
    sc: &scenario::Scenario,
    seed: u64,
    until: std::time::Duration,
    rows: &[crate::sim::timeline::Row],
    summary: &Summary,
) -> Result<String> {
    let v = serde_json::json!({
        "scenario": sc.name,
        "seed": seed,
        "until": crate::sim::timeline::seconds(Instant::ZERO + until),
        "events": rows,
        "summary": summary,
    });
    let mut s = serde_json::to_string_pretty(&v).map_err(|e| config_err(format!("json: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Build and run `sc` with `seed` until `until`.
pub fn run(sc: &scenario::Scenario, seed: u64, until: Instant) -> Result<World> {
    let (mut world, _) = build(sc, seed)?;
    world.run(until);
    Ok(world)
}
