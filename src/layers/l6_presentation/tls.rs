//! Encryption: ChaCha20-Poly1305 (RFC 8439) in TLS 1.3 application-data records (RFC 8446 §5).
//!
//! Read first: RFC 8446 §5.1 (record layer, 2^14-byte limit), §5.2 (record payload protection:
//! TLSInnerPlaintext, TLSCiphertext, additional data), §5.3 (per-record nonce), §7.1
//! (HKDF-Expand-Label), §7.3 (traffic key calculation); RFC 8439 §2.8 (the AEAD).
//!
//! There is no handshake: both ends hold a 32-byte pre-shared secret and derive, for each direction,
//! a key and an IV from it and the sending endpoint's name, as TLS 1.3 derives traffic keys from a
//! traffic secret. Each direction numbers its records from 0.
//!
//! A record on the wire (the view: [`RecordHeader`] over the first five bytes):
//!
//! ```text
//!   0      1      3        5                                  5+length
//!   | type | version | length | encrypted_record (ciphertext || 16-byte tag) |
//!     23     0x0303    u16 BE
//! ```

use crate::error::{Error, ErrorKind, Result};
use crate::layer::LayerId;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

const L6: LayerId = LayerId::Presentation;
/// The protocol name errors carry.
pub const PROTOCOL: &str = "TLS 1.3";

/// RFC 8446 §5: the record content types. An open set: unknown values survive as `ContentType(n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType(pub u8);

impl ContentType {
    /// change_cipher_spec (20).
    pub const CHANGE_CIPHER_SPEC: ContentType = ContentType(20);
    /// alert (21).
    pub const ALERT: ContentType = ContentType(21);
    /// handshake (22).
    pub const HANDSHAKE: ContentType = ContentType(22);
    /// application_data (23): the only type this layer sends, and the outer type of every
    /// protected TLS 1.3 record (RFC 8446 §5.2 `opaque_type`).
    pub const APPLICATION_DATA: ContentType = ContentType(23);

    /// The name Wireshark shows ("Application Data").
    pub fn name(self) -> &'static str {
        match self.0 {
            20 => "Change Cipher Spec",
            21 => "Alert",
            22 => "Handshake",
            23 => "Application Data",
            24 => "Heartbeat",
            _ => "Unknown",
        }
    }
}

/// RFC 8446 §5.1: `legacy_record_version`, 0x0303 on every TLS 1.3 record after the first
/// ClientHello.
pub const LEGACY_VERSION: u16 = 0x0303;
/// RFC 8446 §5.1: a record carries at most 2^14 bytes of plaintext.
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// RFC 8446 §5.2: `TLSCiphertext.length` MUST NOT exceed 2^14 + 256 (`record_overflow`).
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 256;
/// The record header: type (1), legacy_record_version (2), length (2).
pub const HEADER_LEN: usize = 5;
/// RFC 8439 §2.8: the Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// The name of the cipher in traces.
pub const CIPHER: &str = "ChaCha20-Poly1305";

/// The 5-byte record header (RFC 8446 §5.1 `TLSPlaintext` / §5.2 `TLSCiphertext`), which is also
/// the AEAD's additional data (RFC 8446 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// The outer content type (23 for every protected record).
    pub content_type: ContentType,
    /// legacy_record_version.
    pub version: u16,
    /// The length of encrypted_record.
    pub length: u16,
}

impl RecordHeader {
    /// The header of the first five bytes, if there are five.
    pub fn parse(b: &[u8]) -> Option<RecordHeader> {
        match b {
            [t, v0, v1, l0, l1, ..] => Some(RecordHeader {
                content_type: ContentType(*t),
                version: u16::from_be_bytes([*v0, *v1]),
                length: u16::from_be_bytes([*l0, *l1]),
            }),
            _ => None,
        }
    }

    /// The five bytes.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let [v0, v1] = self.version.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [self.content_type.0, v0, v1, l0, l1]
    }

    /// The whole record's length (header + encrypted_record).
    pub fn record_len(&self) -> usize {
        HEADER_LEN + usize::from(self.length)
    }

    /// RFC 8446 §5.1–5.2: the checks a receiver makes on a protected record's header. Offsets in
    /// the error are counted from the record's first byte.
    pub fn validate(&self) -> Result<()> {
        // RFC 8446 §5: an unexpected record type is an unexpected_message; every protected record
        // is application_data on the outside (§5.2 opaque_type).
        if self.content_type != ContentType::APPLICATION_DATA {
            return Err(Error::invalid(
                L6,
                PROTOCOL,
                0,
                "TLS record content type (RFC 8446 §5.2: opaque_type)",
                "23 (Application Data)",
                format!("{} ({}): unexpected_message", self.content_type.0, self.content_type.name()),
            ));
        }
        // RFC 8446 §5.1: legacy_record_version is 0x0303 on all records a TLS 1.3 peer sends here.
        if self.version != LEGACY_VERSION {
            return Err(Error::invalid(
                L6,
                PROTOCOL,
                1,
                "TLS record version (RFC 8446 §5.1: legacy_record_version)",
                "0x0303",
                format!("0x{:04x}", self.version),
            ));
        }
        // RFC 8446 §5.2: length MUST NOT exceed 2^14 + 256 (record_overflow).
        if usize::from(self.length) > MAX_CIPHERTEXT {
            return Err(Error::invalid(
                L6,
                PROTOCOL,
                3,
                "TLS record length (RFC 8446 §5.2)",
                format!("at most {MAX_CIPHERTEXT} (2^14 + 256)"),
                format!("{}: record_overflow", self.length),
            ));
        }
        // RFC 8446 §5.2: encrypted_record holds at least the inner content type and the tag.
        if usize::from(self.length) < TAG_LEN + 1 {
            return Err(Error::truncated(
                L6,
                PROTOCOL,
                3,
                "TLS encrypted_record (content type + 16-byte Poly1305 tag, RFC 8446 §5.2)",
                TAG_LEN + 1,
                usize::from(self.length),
            ));
        }
        Ok(())
    }
}

/// RFC 8446 §7.1: the longest `HkdfLabel.label` ("tls13 " + Label) and `HkdfLabel.context`.
pub const MAX_LABEL: usize = 255;
/// RFC 8446 §7.1: the longest context.
pub const MAX_CONTEXT: usize = 255;
/// RFC 8446 §7.1: the prefix of every label.
pub const LABEL_PREFIX: &str = "tls13 ";
/// The label of a direction's secret is "osilab " + the sending endpoint.
pub const DIRECTION_LABEL: &str = "osilab ";

/// RFC 8446 §7.1 HKDF-Expand-Label(Secret, Label, Context, Length) with SHA-256:
/// HKDF-Expand(Secret, HkdfLabel, Length) where
/// `HkdfLabel = uint16 length || opaque label<7..255> = "tls13 " + Label || opaque context<0..255>`.
/// A label or context that does not fit its 255 bytes, or an `N` HKDF cannot give (more than
/// 255 × 32 bytes), is a configuration error: nothing is cut or filled in.
pub fn hkdf_expand_label<const N: usize>(secret: &[u8; 32], label: &str, context: &[u8]) -> Result<[u8; N]> {
    let full_len = LABEL_PREFIX.len() + label.len();
    let (Ok(label_len), Ok(context_len), Ok(length)) =
        (u8::try_from(full_len), u8::try_from(context.len()), u16::try_from(N))
    else {
        return Err(Error::config(
            Some(L6),
            format!(
                "HKDF-Expand-Label (RFC 8446 §7.1): label of {full_len} bytes, context of {} bytes (at most {MAX_LABEL} and {MAX_CONTEXT}), length {N}",
                context.len()
            ),
        ));
    };
    let mut info = Vec::with_capacity(4 + full_len + context.len());
    info.extend_from_slice(&length.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(LABEL_PREFIX.as_bytes());
    info.extend_from_slice(label.as_bytes());
    info.push(context_len);
    info.extend_from_slice(context);
    let mut out = [0u8; N];
    let hk = Hkdf::<Sha256>::from_prk(secret).map_err(|_| {
        Error::config(Some(L6), "HKDF-Expand-Label (RFC 5869 §2.3): the secret is shorter than SHA-256's output")
    })?;
    hk.expand(&info, &mut out).map_err(|_| {
        Error::config(Some(L6), format!("HKDF-Expand (RFC 5869 §2.3): {N} bytes is more than 255 × 32"))
    })?;
    Ok(out)
}

/// The key and IV of one direction, as RFC 8446 §7.3 derives traffic keys from a traffic secret:
/// `secret = HKDF-Expand-Label(psk, "osilab " + endpoint, context, 32)`,
/// `key = HKDF-Expand-Label(secret, "key", "", 32)`, `iv = HKDF-Expand-Label(secret, "iv", "", 12)`,
/// where `endpoint` is the sending end ("192.0.2.1:51000") and `context` the connection's identity
/// (at most 255 bytes). RFC 8446 §7.1 puts a transcript hash in the context, which makes every
/// TLS connection's secrets its own; here, with no handshake, the connection's identity (the
/// dialogue and a per-connection nonce) plays that part, so that two connections under the same
/// pre-shared secret never seal their records under the same key and nonce. An empty context
/// gives the same keys on every connection.
pub fn derive_direction_keys(psk: &[u8; 32], endpoint: &str, context: &[u8]) -> Result<([u8; 32], [u8; 12])> {
    let secret: [u8; 32] = hkdf_expand_label(psk, &format!("{DIRECTION_LABEL}{endpoint}"), context)?;
    Ok((hkdf_expand_label(&secret, "key", b"")?, hkdf_expand_label(&secret, "iv", b"")?))
}

/// RFC 8446 §5.3: the per-record nonce: the 64-bit sequence number, big-endian, left-padded with
/// zeros to the IV's 12 bytes, XORed with the IV.
pub fn record_nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// Seal one TLS 1.3 application-data record (RFC 8446 §5.2): TLSInnerPlaintext = `plaintext` ||
/// 23 (no padding), encrypted with ChaCha20-Poly1305 under `key` and the nonce of `seq`, with the
/// 5-byte header as additional data. The one place records are sealed: the layer cuts a unit
/// into records of at most 2^14 bytes and seals each here. A longer plaintext (RFC 8446 §5.1)
/// is an error.
pub fn seal_record(key: &[u8; 32], iv: &[u8; 12], seq: u64, plaintext: &[u8]) -> Result<Vec<u8>> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(Error::invalid(
            L6,
            PROTOCOL,
            None,
            "TLS record plaintext (RFC 8446 §5.1)",
            format!("at most {MAX_PLAINTEXT} bytes (2^14)"),
            format!("{} bytes", plaintext.len()),
        ));
    }
    // RFC 8446 §5.2: TLSInnerPlaintext = content || ContentType type || zeros (none here).
    let mut body = Vec::with_capacity(plaintext.len() + 1 + TAG_LEN);
    body.extend_from_slice(plaintext);
    body.push(ContentType::APPLICATION_DATA.0);
    let length = u16::try_from(body.len() + TAG_LEN).map_err(|_| {
        Error::invalid(
            L6,
            PROTOCOL,
            None,
            "TLS record length (RFC 8446 §5.2)",
            "at most 65535",
            (body.len() + TAG_LEN).to_string(),
        )
    })?;
    let header = RecordHeader { content_type: ContentType::APPLICATION_DATA, version: LEGACY_VERSION, length }.emit();
    // RFC 8446 §5.2: additional_data = the record header.
    let sealed = aead_seal(key, &record_nonce(iv, seq), &header, &body)?;
    let mut rec = header.to_vec();
    rec.extend_from_slice(&sealed);
    Ok(rec)
}

/// RFC 8439 §2.8: AEAD_CHACHA20_POLY1305 encryption: ciphertext || 16-byte tag, or an error when
/// the AEAD refuses the length (ChaCha20-Poly1305 does above 256 GiB, RFC 8439 §2.8).
pub fn aead_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let cipher = ChaCha20Poly1305::new(key.into());
    let mut buf = plaintext.to_vec();
    let tag = cipher.encrypt_in_place_detached(&Nonce::from(*nonce), aad, &mut buf).map_err(|_| {
        Error::invalid(
            L6,
            PROTOCOL,
            None,
            "ChaCha20-Poly1305 plaintext (RFC 8439 §2.8)",
            "at most 2^38 − 64 bytes",
            format!("{} bytes: refused by the AEAD", plaintext.len()),
        )
    })?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// The error for a record that would need a sequence number past 2^64 − 1: RFC 8446 §5.3 says
/// the sequence number must not wrap; the connection must be rekeyed or closed first.
pub fn sequence_exhausted(direction: &str) -> Error {
    Error::invalid(
        L6,
        PROTOCOL,
        None,
        format!("TLS record sequence number ({direction})"),
        "at most 2^64 − 1 (RFC 8446 §5.3: it must not wrap; rekey or terminate the connection)",
        "every sequence number has been used",
    )
}

/// RFC 8439 §2.8: AEAD_CHACHA20_POLY1305 decryption of ciphertext || tag: the plaintext, or
/// `None` when the tag does not verify (or there is no whole tag).
pub fn aead_open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let split = sealed.len().checked_sub(TAG_LEN)?;
    let (ct, tag) = sealed.split_at(split);
    let cipher = ChaCha20Poly1305::new(key.into());
    let mut buf = ct.to_vec();
    cipher.decrypt_in_place_detached(&Nonce::from(*nonce), aad, &mut buf, Tag::from_slice(tag)).ok()?;
    Some(buf)
}

/// The error for a record that does not authenticate.
pub fn bad_record_mac(offset: Option<usize>) -> Error {
    Error::invalid(
        L6,
        PROTOCOL,
        offset,
        "TLS record",
        "a Poly1305 tag that verifies",
        "record authentication failed (RFC 8446 §5.2: bad_record_mac)",
    )
}

/// The error for a record the stream ended in the middle of (`held` of its `expected` bytes, or of
/// its 5-byte header when that is not in): it can never be authenticated, so it fails as a
/// record whose tag does not verify (RFC 8446 §5.2: bad_record_mac).
pub fn truncated_record(held: usize, expected: Option<usize>) -> Error {
    let of = match expected {
        Some(n) => format!("{held} of {n} bytes"),
        None => format!("{held} of the header's {HEADER_LEN} bytes"),
    };
    Error::invalid(
        L6,
        PROTOCOL,
        None,
        "TLS record at the end of the stream",
        "a whole record whose Poly1305 tag verifies",
        format!("truncated record: {of}, the stream ended (RFC 8446 §5.2: bad_record_mac)"),
    )
}

/// Open one whole record (header + encrypted_record, nothing after it) sealed under `key` and
/// the nonce of `seq`: the checks of [`RecordHeader::validate`], then decryption with the header
/// as additional data (a tampered or cut record fails with `bad_record_mac`), then the inner
/// content type (RFC 8446 §5.4). Returns the content. Error offsets count from the record's
/// first byte.
pub fn open_record(key: &[u8; 32], iv: &[u8; 12], seq: u64, record: &[u8]) -> Result<Vec<u8>> {
    let header = RecordHeader::parse(record).ok_or_else(|| {
        Error::truncated(L6, PROTOCOL, 0, "TLS record header (RFC 8446 §5.1)", HEADER_LEN, record.len())
    })?;
    header.validate()?;
    if record.len() < header.record_len() {
        return Err(Error::truncated(
            L6,
            PROTOCOL,
            0,
            "TLS record (RFC 8446 §5.2: length)",
            header.record_len(),
            record.len(),
        ));
    }
    if record.len() > header.record_len() {
        return Err(Error::invalid(
            L6,
            PROTOCOL,
            header.record_len(),
            "TLS record",
            format!("{} bytes, as its length field says", header.record_len()),
            format!("{} bytes", record.len()),
        ));
    }
    let mut body = aead_open(key, &record_nonce(iv, seq), &record[..HEADER_LEN], &record[HEADER_LEN..])
        .ok_or_else(|| bad_record_mac(Some(0)))?;
    // RFC 8446 §5.4: the content type is the last non-zero byte; all zeros is unexpected_message.
    let Some(end) = body.iter().rposition(|&b| b != 0) else {
        return Err(Error::invalid(
            L6,
            PROTOCOL,
            None,
            "TLSInnerPlaintext (RFC 8446 §5.4)",
            "a non-zero content type",
            "only padding: unexpected_message",
        ));
    };
    let inner = ContentType(body[end]);
    if inner != ContentType::APPLICATION_DATA {
        return Err(Error::invalid(
            L6,
            PROTOCOL,
            None,
            "inner content type (RFC 8446 §5.2: TLSInnerPlaintext.type)",
            "23 (Application Data)",
            format!("{} ({}): not handled without a handshake", inner.0, inner.name()),
        ));
    }
    // RFC 8446 §5.2: TLSInnerPlaintext.content is at most 2^14 bytes (record_overflow).
    if end > MAX_PLAINTEXT {
        return Err(Error::invalid(
            L6,
            PROTOCOL,
            None,
            "TLSInnerPlaintext length (RFC 8446 §5.2)",
            format!("at most {MAX_PLAINTEXT} bytes of content"),
            format!("{end}: record_overflow"),
        ));
    }
    body.truncate(end);
    Ok(body)
}

/// A record opened on the way up, with what the trace shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Its header.
    pub header: RecordHeader,
    /// encrypted_record (ciphertext and tag), Wireshark's `tls.app_data`.
    pub encrypted: Vec<u8>,
    /// Its sequence number in this direction.
    pub seq: u64,
    /// Its nonce.
    pub nonce: [u8; 12],
    /// The content.
    pub content: Vec<u8>,
    /// The frame offset of its first byte, when it began in the piece just pushed.
    pub at: Option<usize>,
}

/// The receiving side of one direction: buffers the byte stream until a whole record has
/// arrived (across TCP segments), then opens it. Its `Debug` shows no key or IV.
#[derive(Clone)]
pub struct RecordReader {
    key: [u8; 32],
    iv: [u8; 12],
    /// The next record's sequence number; `None` once 2^64 − 1 has been used.
    seq: Option<u64>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordReader")
            .field("key", &"<redacted>")
            .field("iv", &"<redacted>")
            .field("seq", &self.seq)
            .field("held", &self.buf.len())
            .finish()
    }
}

impl RecordReader {
    /// A reader for records sealed with `key` and `iv`, the first numbered 0.
    pub fn new(key: [u8; 32], iv: [u8; 12]) -> Self {
        RecordReader::starting_at(key, iv, 0)
    }

    /// A reader whose next record is numbered `seq` (a stream read part-way).
    pub fn starting_at(key: [u8; 32], iv: [u8; 12], seq: u64) -> Self {
        RecordReader { key, iv, seq: Some(seq), buf: Vec::new() }
    }

    /// Bytes held: part of a record.
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// The whole length (header + encrypted_record) of the record in progress, once its header is
    /// in.
    pub fn expected(&self) -> Option<usize> {
        RecordHeader::parse(&self.buf).map(|h| h.record_len())
    }

    /// How many more bytes the record in progress needs (header first), or 0 when none is.
    pub fn missing(&self) -> usize {
        if self.buf.is_empty() {
            return 0;
        }
        match RecordHeader::parse(&self.buf) {
            Some(h) => h.record_len().saturating_sub(self.buf.len()),
            None => HEADER_LEN - self.buf.len(),
        }
    }

    /// Push a piece of the stream whose first byte sits at frame offset `base` (when known): every
    /// record it completes, opened. A header is checked as soon as its five bytes are in.
    pub fn push(&mut self, piece: &[u8], base: Option<usize>) -> Result<Vec<Opened>> {
        let before = self.buf.len();
        self.buf.extend_from_slice(piece);
        // The frame offset of buffer position `p`, if that byte came in this piece.
        let at = |p: usize| if p >= before { base.map(|b| b + p - before) } else { None };
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(header) = RecordHeader::parse(&self.buf[start..]) {
            header.validate().map_err(|mut e| {
                e.offset = e.offset.and_then(|o| at(start + o));
                e
            })?;
            let end = start + header.record_len();
            if end > self.buf.len() {
                break;
            }
            let record = &self.buf[start..end];
            let Some(seq) = self.seq else { return Err(sequence_exhausted("received")) };
            let content = open_record(&self.key, &self.iv, seq, record).map_err(|mut e| {
                e.offset = match e.kind {
                    ErrorKind::Invalid { .. } | ErrorKind::Truncated { .. } => e.offset.and_then(|o| at(start + o)),
                    _ => None,
                };
                e
            })?;
            out.push(Opened {
                header,
                encrypted: record[HEADER_LEN..].to_vec(),
                seq,
                nonce: record_nonce(&self.iv, seq),
                content,
                at: at(start),
            });
            // RFC 8446 §5.3: never wraps; after 2^64 − 1 no record can be opened.
            self.seq = seq.checked_add(1);
            start = end;
        }
        self.buf.drain(..start);
        Ok(out)
    }
}
