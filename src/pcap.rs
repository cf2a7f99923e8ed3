//! Writing captures: classic pcap with nanosecond timestamps and the Ethernet link type
//! (LINKTYPE_ETHERNET = 1), which holds frames without their FCS, as Wireshark expects.
//!
//! Timestamps are simulated time since the start of the run, so the first frame sits at the Unix
//! epoch plus its start time: Wireshark's "seconds since beginning of capture" column then reads
//! exactly the simulated times osilab prints.

use crate::error::{Error, Result};
use crate::time::Instant;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::io::Write;

/// Writes frames to a pcap stream.
pub struct PcapSink<W: Write> {
    writer: PcapWriter<W>,
}

impl<W: Write> PcapSink<W> {
    /// Start a pcap stream (writes the global header).
    pub fn new(w: W) -> Result<Self> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: 65535,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        };
        let writer = PcapWriter::with_header(w, header).map_err(|e| Error::io(format!("pcap: {e}")))?;
        Ok(PcapSink { writer })
    }

    /// Append one Ethernet frame (without FCS) seen at `at`.
    pub fn write(&mut self, at: Instant, frame: &[u8]) -> Result<()> {
        let len = u32::try_from(frame.len()).map_err(|_| Error::io("pcap: frame over 4 GiB"))?;
        self.writer
            .write_packet(&PcapPacket::new(at.since_start(), len, frame))
            .map_err(|e| Error::io(format!("pcap: {e}")))?;
        Ok(())
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.writer.into_writer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut sink = PcapSink::new(Vec::new()).unwrap();
        sink.write(Instant::from_nanos(1_500_000_123), &[0xaa; 60]).unwrap();
        let b = sink.into_inner();
        // Nanosecond-resolution magic, little endian (pcap-savefile(5)).
        assert_eq!(&b[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(b[20..24].try_into().unwrap()), 1, "LINKTYPE_ETHERNET");
        let rec = &b[24..];
        assert_eq!(u32::from_le_bytes(rec[0..4].try_into().unwrap()), 1, "seconds");
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 500_000_123, "nanoseconds");
        assert_eq!(u32::from_le_bytes(rec[8..12].try_into().unwrap()), 60, "captured length");
        assert_eq!(u32::from_le_bytes(rec[12..16].try_into().unwrap()), 60, "original length");
        assert_eq!(rec.len(), 16 + 60);
    }
}
