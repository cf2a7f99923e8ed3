//! `send`'s application (L7), presentation (L6) and session (L5) options: which application,
//! what it sends, and the defaults that follow from it (port, transport, which side sends).

use super::args::SendArgs;
use super::config_err;
use crate::error::{Error, Result};
use crate::layers::l4_transport::TransportKind;
use crate::layers::l6_presentation::Compression;
use crate::layers::l7_application::chat::{ChatCommand, ChatConfig};
use crate::layers::l7_application::dns::{answer_text, question_text, DnsKind, RrType};
use crate::layers::l7_application::http::{HttpConfig, HttpKind};
use crate::stack::{App, Key, Model, StackConfig};
use std::net::IpAddr;

/// Which application `--app` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppName {
    /// The bytes as given.
    Raw,
    /// The chat room.
    Chat,
    /// HTTP/1.1.
    Http,
    /// DNS.
    Dns,
}

impl AppName {
    /// Parse `--app`.
    pub fn parse(s: &str) -> Result<AppName> {
        match s.to_ascii_lowercase().as_str() {
            "raw" => Ok(AppName::Raw),
            "chat" => Ok(AppName::Chat),
            "http" => Ok(AppName::Http),
            "dns" => Ok(AppName::Dns),
            _ => Err(config_err(format!("unknown application {s:?}: expected raw, chat, http or dns"))),
        }
    }

    /// The well-known port of the application's server: the chat room's 3000, HTTP's 80, DNS's 53.
    pub fn port(self) -> u16 {
        match self {
            AppName::Raw | AppName::Chat => 3000,
            AppName::Http => 80,
            AppName::Dns => 53,
        }
    }

    /// The transport when `--transport` is not given: UDP for DNS (RFC 1035 §4.2.1), TCP otherwise.
    pub fn transport(self) -> TransportKind {
        if self == AppName::Dns {
            TransportKind::Udp
        } else {
            TransportKind::Tcp
        }
    }
}

fn chat_command(a: &SendArgs) -> Result<ChatCommand> {
    let cmd = a.chat.as_deref().unwrap_or("msg").to_ascii_lowercase();
    if a.nick.is_some() && cmd != "from" {
        return Err(config_err("--nick names whose message a server relays: it goes with --chat from"));
    }
    Ok(match cmd.as_str() {
        "msg" => ChatCommand::Msg,
        "join" => ChatCommand::Join,
        "leave" => ChatCommand::Leave,
        "from" => ChatCommand::From {
            nick: a.nick.clone().ok_or_else(|| config_err("--chat from relays someone's message: give --nick"))?,
        },
        "joined" => ChatCommand::Joined,
        "left" => ChatCommand::Left,
        other => {
            return Err(config_err(format!(
                "unknown chat line {other:?}: expected msg, join, leave (client) or from, joined, left (server)"
            )))
        }
    })
}

/// Whether the options make the sending end the server (a response, a chat server's line).
pub fn sender_is_server(a: &SendArgs, name: AppName) -> Result<bool> {
    Ok(match name {
        AppName::Raw => false,
        AppName::Chat => matches!(chat_command(a)?, ChatCommand::From { .. } | ChatCommand::Joined | ChatCommand::Left),
        AppName::Http => a.status.is_some(),
        AppName::Dns => !a.answer.is_empty(),
    })
}

/// MESSAGE, --file or --body, if any.
fn data(a: &SendArgs) -> Result<Option<Vec<u8>>> {
    Ok(match (&a.message, &a.file, &a.body) {
        (Some(m), None, None) => Some(m.clone().into_bytes()),
        (None, Some(p), None) => {
            Some(std::fs::read(p).map_err(|e| Error::io(format!("cannot read {}: {e}", p.display())))?)
        }
        (None, None, Some(b)) => Some(b.clone().into_bytes()),
        (None, None, None) => None,
        _ => return Err(config_err("give the data once: MESSAGE, --file or --body")),
    })
}

/// A domain name made absolute (a trailing dot), as DNS's presentation format writes it.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// The Host header for a request to `ip:port` (RFC 9110 §7.2: the port only when not 80).
fn host_for(ip: IpAddr, port: u16) -> String {
    let h = match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    if port == 80 {
        h
    } else {
        format!("{h}:{port}")
    }
}

/// The application and the SDU it is handed, for a configuration whose endpoints are set.
pub fn application(a: &SendArgs, name: AppName, cfg: &StackConfig) -> Result<(App, Vec<u8>)> {
    let data = data(a)?;
    refuse_foreign_options(a, name)?;
    Ok(match name {
        AppName::Raw => {
            let d = data.ok_or_else(|| config_err("give a MESSAGE or --file PATH"))?;
            (App::Raw, d)
        }
        AppName::Chat => {
            let command = chat_command(a)?;
            let d = match (&command, data) {
                (ChatCommand::Leave, Some(_)) => return Err(config_err("LEAVE takes no argument: give no MESSAGE")),
                (ChatCommand::Leave, None) => Vec::new(),
                (ChatCommand::Join | ChatCommand::Joined | ChatCommand::Left, None) => {
                    return Err(config_err("give the nick as MESSAGE"))
                }
                (_, None) => return Err(config_err("give the chat text as MESSAGE")),
                (_, Some(d)) => d,
            };
            (App::Chat(ChatConfig { command }), d)
        }
        AppName::Http => {
            let kind = match &a.status {
                Some(s) => HttpKind::Response {
                    status: s.trim().parse().map_err(|_| config_err(format!("bad status {s:?}: expected e.g. 200")))?,
                    chunked: a
                        .chunked
                        .as_deref()
                        .map(|n| n.trim().parse().map_err(|_| config_err(format!("bad chunk size {n:?}"))))
                        .transpose()?,
                },
                None => HttpKind::Request {
                    method: a.method.clone().unwrap_or_else(|| "GET".into()),
                    target: a.path.clone().unwrap_or_else(|| "/".into()),
                    host: a.host.clone().unwrap_or_else(|| host_for(cfg.remote.ip, cfg.remote.port)),
                },
            };
            let content_type = a.content_type.clone().unwrap_or_else(|| "text/plain; charset=utf-8".into());
            (App::Http(HttpConfig { kind, content_type }), data.unwrap_or_default())
        }
        AppName::Dns => {
            if data.is_some() {
                return Err(config_err("a DNS message is made from --query, --type and --answer: give no MESSAGE"));
            }
            let q = a.query.as_deref().ok_or_else(|| config_err("--app dns needs --query NAME"))?;
            let rrtype: RrType = a.rrtype.as_deref().unwrap_or("A").parse().map_err(config_err)?;
            let ttl: u32 = match &a.answer_ttl {
                Some(t) => {
                    t.trim().parse().map_err(|_| config_err(format!("bad --answer-ttl {t:?}: expected seconds")))?
                }
                None => 300,
            };
            let mut lines = vec![question_text(&fqdn(q), rrtype)];
            for v in &a.answer {
                let rdata = if rrtype == RrType::Cname { fqdn(v) } else { v.clone() };
                lines.push(answer_text(&fqdn(q), ttl, rrtype, &rdata));
            }
            let kind = if a.answer.is_empty() { DnsKind::Query } else { DnsKind::Response };
            (App::Dns(kind), lines.join("\n").into_bytes())
        }
    })
}

/// An option of another application than the chosen one would be silently ignored: refuse it.
fn refuse_foreign_options(a: &SendArgs, name: AppName) -> Result<()> {
    let given = |opts: &[(&str, bool)]| opts.iter().find(|(_, g)| *g).map(|(n, _)| n.to_string());
    let chat = given(&[("--chat", a.chat.is_some()), ("--nick", a.nick.is_some())]);
    let http = given(&[
        ("--method", a.method.is_some()),
        ("--path", a.path.is_some()),
        ("--host", a.host.is_some()),
        ("--status", a.status.is_some()),
        ("--body", a.body.is_some()),
        ("--content-type", a.content_type.is_some()),
        ("--chunked", a.chunked.is_some()),
    ]);
    let dns = given(&[
        ("--query", a.query.is_some()),
        ("--type", a.rrtype.is_some()),
        ("--answer", !a.answer.is_empty()),
        ("--answer-ttl", a.answer_ttl.is_some()),
    ]);
    for (opt, app, wrong) in [
        (chat, "chat", name != AppName::Chat),
        (http, "http", name != AppName::Http),
        (dns, "dns", name != AppName::Dns),
    ] {
        if let (Some(opt), true) = (opt, wrong) {
            return Err(config_err(format!("{opt} is for --app {app}")));
        }
    }
    Ok(())
}

/// `--encoding`, `--compress`, `--key`/`--key-file` and `--model` into the configuration.
pub fn presentation_and_session(a: &SendArgs, cfg: &mut StackConfig) -> Result<()> {
    cfg.encoding = a.encoding.parse().map_err(config_err)?;
    cfg.compression = match &a.compress {
        Some(c) => c.parse().map_err(config_err)?,
        None => Compression::None,
    };
    cfg.key = match (&a.key, &a.key_file) {
        (Some(h), _) => Some(parse_key(h.trim(), "--key")?),
        (None, Some(p)) => {
            let b = std::fs::read(p).map_err(|e| Error::io(format!("cannot read {}: {e}", p.display())))?;
            Some(match std::str::from_utf8(&b).map(str::trim) {
                Ok(t) if t.len() == 64 => parse_key(t, "--key-file")?,
                _ if b.len() == 32 => {
                    <[u8; 32]>::try_from(b.as_slice()).map_err(|_| config_err("--key-file: 32 bytes expected"))?
                }
                _ => {
                    return Err(config_err(format!(
                        "--key-file {}: expected 64 hex digits or 32 raw bytes, found {} bytes",
                        p.display(),
                        b.len()
                    )))
                }
            })
        }
        (None, None) => None,
    }
    .map(Key);
    cfg.model = match a.model.to_ascii_lowercase().as_str() {
        "tcpip" | "tcp/ip" => Model::Tcpip,
        "osi" => {
            return Err(config_err(
                "the osi model (ISO 8327-1 session and ISO 8823 presentation PDUs over RFC 1006) is not built yet: use --model tcpip",
            ))
        }
        other => return Err(config_err(format!("unknown model {other:?}: expected tcpip"))),
    };
    Ok(())
}

/// 64 hex digits into a 256-bit key (hex digits only: no signs, no separators).
fn parse_key(hex: &str, option: &str) -> Result<[u8; 32]> {
    let bad = || config_err(format!("{option}: expected a 256-bit key as 64 hex digits, got {} characters", hex.len()));
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(key)
}
