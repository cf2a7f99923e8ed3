//! Whole scenarios run in the world.

use super::build::build;
use super::scenario;
use crate::apps::chat::ChatClient;
use crate::time::Instant;
use std::path::Path;

fn chat_run(path: &str, seed: u64) -> (super::world::World, Vec<super::build::ProcessRef>) {
    let sc = scenario::load(Path::new(path)).unwrap();
    let (mut w, refs) = build(&sc, seed).unwrap();
    w.run(Instant::ZERO + sc.until);
    (w, refs)
}

#[test]
fn chat_room_every_client_hears_every_other_once_in_order() {
    let (w, refs) = chat_run("fixtures/scenarios/chat-room.toml", 1);
    let mut clients = Vec::new();
    for r in &refs {
        let h = w.host(r.node).unwrap();
        for (pid, name, _) in h.processes() {
            if name != r.name {
                continue;
            }
            if let Some(c) = h.program(pid).and_then(|p| p.as_any().downcast_ref::<ChatClient>()) {
                clients.push((r.host.clone(), c.sent.clone(), c.messages()));
            }
        }
    }
    assert_eq!(clients.len(), 3, "{}", w.timeline.text());
    for (me, _, got) in &clients {
        for (other, sent, _) in &clients {
            if other == me {
                continue;
            }
            let from_other: Vec<String> = got.iter().filter(|(n, _)| n == other).map(|(_, t)| t.clone()).collect();
            assert_eq!(&from_other, sent, "{me} from {other}\n{}", w.timeline.text());
        }
    }
}
