//! The chat room's line protocol (the seeds' chat room: a server relays every message to all
//! connected clients).
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `ChatCommand`, `ChatConfig`, `ChatApplication::new(cfg) -> Result<Self>`, `impl Layer`
//! - `ChatLine` (parse / Display) for the grammar.

use crate::error::{Error, Result};
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;

/// Which line this endpoint sends; the SDU is the line's argument (see each variant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChatCommand {
    /// Client: `JOIN <nick>`; the SDU is the nick.
    Join,
    /// Client: `MSG <text>`; the SDU is the text.
    Msg,
    /// Client: `LEAVE`; the SDU is empty.
    Leave,
    /// Server: `FROM <nick> <text>`, relaying `nick`'s message; the SDU is the text.
    From { nick: String },
    /// Server: `JOINED <nick>`; the SDU is the nick.
    Joined,
    /// Server: `LEFT <nick>`; the SDU is the nick.
    Left,
}

/// Chat configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatConfig {
    /// The line sent.
    pub command: ChatCommand,
}

/// The chat application.
#[derive(Debug, Clone)]
pub struct ChatApplication {
    cfg: ChatConfig,
}

impl ChatApplication {
    /// A chat application, or a config error.
    pub fn new(cfg: ChatConfig) -> Result<Self> {
        Ok(ChatApplication { cfg })
    }
}

impl Layer for ChatApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(Error::config(Some(LayerId::Application), "chat not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(Error::config(Some(LayerId::Application), "chat not built yet"))
    }
}
