//! The sender's SACK scoreboard (RFC 2018 §5, a small part of RFC 6675): which ranges above
//! SND.UNA the peer reported holding. The sender uses it to resend only the holes: in fast
//! recovery each further duplicate ACK sends the next hole below the highest SACKed byte
//! (RFC 6675 §4 NextSeg, rule 1, without its pipe estimate), and after a timeout the go-back
//! skips what the peer holds.

use super::{seq_le, seq_lt};

/// SACKed ranges [left, right) above SND.UNA, sorted and merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scoreboard {
    blocks: Vec<(u32, u32)>,
}

impl Scoreboard {
    /// The ranges, in sequence order.
    pub fn blocks(&self) -> &[(u32, u32)] {
        &self.blocks
    }

    /// Nothing SACKed.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.blocks.clear();
    }

    /// Take the blocks of one ACK. RFC 2018 §5: a block is only advisory; one that is empty,
    /// reaches past what was sent (`snd_max`) or lies wholly below `snd_una` is ignored, and the
    /// part below SND.UNA of one that straddles it is cut off.
    pub fn add(&mut self, blocks: &[(u32, u32)], snd_una: u32, snd_max: u32) {
        for &(l, r) in blocks {
            if !seq_lt(l, r) || !seq_lt(snd_una, r) || seq_lt(snd_max, r) {
                continue;
            }
            let l = if seq_lt(l, snd_una) { snd_una } else { l };
            self.blocks.push((l, r));
        }
        // All blocks lie within [SND.UNA, SND.MAX], so offsets from SND.UNA order them.
        self.blocks.sort_by_key(|&(l, _)| l.wrapping_sub(snd_una));
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.blocks.len());
        for &(l, r) in &self.blocks {
            match merged.last_mut() {
                Some((_, pr)) if seq_le(l, *pr) => {
                    if seq_lt(*pr, r) {
                        *pr = r;
                    }
                }
                _ => merged.push((l, r)),
            }
        }
        self.blocks = merged;
    }

    /// SND.UNA moved: drop what it passed.
    pub fn advance(&mut self, snd_una: u32) {
        self.blocks.retain(|&(_, r)| seq_lt(snd_una, r));
        if let Some(first) = self.blocks.first_mut() {
            if seq_lt(first.0, snd_una) {
                first.0 = snd_una;
            }
        }
    }

    /// The SACKed block holding `seq`, if any: its right edge.
    pub fn covering(&self, seq: u32) -> Option<u32> {
        self.blocks.iter().find(|&&(l, r)| seq_le(l, seq) && seq_lt(seq, r)).map(|&(_, r)| r)
    }

    /// The start of the first SACKed block after `seq`.
    pub fn next_after(&self, seq: u32) -> Option<u32> {
        self.blocks.iter().find(|&&(l, _)| seq_lt(seq, l)).map(|&(l, _)| l)
    }

    /// The highest SACKed sequence number + 1.
    pub fn highest(&self) -> Option<u32> {
        self.blocks.last().map(|&(_, r)| r)
    }

    /// The first hole at or after `from`, below the highest SACKed byte: (start, end).
    pub fn hole_from(&self, from: u32) -> Option<(u32, u32)> {
        let mut seq = from;
        while let Some(r) = self.covering(seq) {
            seq = r;
        }
        let highest = self.highest()?;
        if !seq_lt(seq, highest) {
            return None;
        }
        let end = self.next_after(seq).unwrap_or(highest);
        Some((seq, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_merge_trim_and_find_holes_across_the_wrap() {
        let una = u32::MAX - 99;
        let mut s = Scoreboard::default();
        let at = |n: u32| una.wrapping_add(n);
        // Beyond SND.MAX and empty blocks are ignored; one straddling SND.UNA is cut.
        s.add(&[(at(200), at(300)), (5, 5), (at(900), at(5000)), (una.wrapping_sub(50), at(50))], una, at(1000));
        assert_eq!(s.blocks(), [(una, at(50)), (at(200), at(300))]);
        s.advance(at(50));
        assert_eq!(s.blocks(), [(at(200), at(300))]);
        s.add(&[(at(300), at(400)), (at(600), at(700))], una, at(1000));
        assert_eq!(s.blocks(), [(at(200), at(400)), (at(600), at(700))]);
        assert_eq!(s.hole_from(una), Some((una, at(200))));
        assert_eq!(s.hole_from(at(250)), Some((at(400), at(600))));
        assert_eq!(s.hole_from(at(650)), None);
        s.advance(at(350));
        assert_eq!(s.blocks(), [(at(350), at(400)), (at(600), at(700))]);
        s.advance(at(700));
        assert!(s.is_empty());
    }
}
