//! `osilab simulate SCENARIO`: load the scenario, build the world, run it to the end time, and
//! print the timeline and summary (or JSON, or one event's layer view); pcaps per link on request.

use super::args::SimulateArgs;
use super::config_err;
use crate::error::Result;
use crate::sim::build::build;
use crate::sim::scenario::{self, units::parse_duration};
use crate::sim::summary::Summary;
use crate::sim::world::World;
use crate::time::Instant;

/// Run a scenario as the arguments say; the text to print.
pub fn simulate(a: &SimulateArgs) -> Result<String> {
    let format = match a.format.as_str() {
        "timeline" | "json" => a.format.as_str(),
        other => return Err(config_err(format!("--format {other:?}: choose timeline or json"))),
    };
    let until = match &a.until {
        Some(t) => Some(parse_duration(t).map_err(|e| config_err(format!("--until {t:?}: {e}")))?),
        None => None,
    };
    let sc = scenario::load(&a.scenario)?;
    let seed = a.seed.unwrap_or(sc.seed);
    let until = until.unwrap_or(sc.until);
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
    let summary = Summary::of(&world);
    Ok(match format {
        "json" => json(&sc, seed, until, &world.timeline.rows, &summary)?,
        _ => {
            let mut s = format!("Scenario {} (seed {seed}): {}\n\n", sc.name, sc.description);
            s.push_str(&world.timeline.text());
            s.push_str(&summary.text());
            s
        }
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
