//! L2 data link: Ethernet II frames with an optional IEEE 802.1Q tag, the FCS, and ARP.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `VlanTag`, `DataLinkConfig`, `DataLink::new(cfg)`, `impl Layer for DataLink`
//! - `fcs(frame_without_fcs) -> u32`
//! - `arp` module: `ArpPacket` (op, sender/target MAC+IPv4) with `parse`/`emit`, `request`, `reply_to`

use crate::addr::MacAddr;
use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;

/// An IEEE 802.1Q tag's control information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VlanTag {
    /// Priority code point, 0..=7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier, 1..=4094.
    pub id: u16,
}

/// L2 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataLinkConfig {
    /// This station's MAC address (the source of frames sent).
    pub local: MacAddr,
    /// The neighbour frames are sent to (unless the SDU's meta names another).
    pub remote: MacAddr,
    /// Tag frames with this 802.1Q tag.
    pub vlan: Option<VlanTag>,
    /// Accept frames addressed to any station (a capture), not only to `local`/broadcast/multicast.
    pub promiscuous: bool,
}

/// The data link layer.
#[derive(Debug, Clone)]
pub struct DataLink {
    cfg: DataLinkConfig,
}

impl DataLink {
    /// A data link layer with this configuration.
    pub fn new(cfg: DataLinkConfig) -> Self {
        DataLink { cfg }
    }
}

impl Layer for DataLink {
    fn id(&self) -> LayerId {
        LayerId::DataLink
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(crate::error::Error::config(Some(LayerId::DataLink), "L2 not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(crate::error::Error::config(Some(LayerId::DataLink), "L2 not built yet"))
    }
}
