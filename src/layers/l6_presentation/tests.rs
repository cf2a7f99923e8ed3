use super::*;
use crate::error::ErrorKind;
use crate::trace::Trace;
use proptest::prelude::*;

const LOCAL: &str = "192.0.2.1:51000";
const REMOTE: &str = "192.0.2.2:3000";
/// The pre-shared secret of the tests: 00 01 02 … 1f.
const PSK: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn config(text: bool, encoding: TextEncoding, compression: Compression, key: bool) -> PresentationConfig {
    PresentationConfig {
        text,
        encoding,
        compression,
        key: key.then_some(PSK),
        local: LOCAL.into(),
        remote: REMOTE.into(),
        context: Vec::new(),
    }
}

/// A sender with `cfg` and the receiver at the other end (local and remote swapped).
fn pair(cfg: &PresentationConfig) -> (Presentation, Presentation) {
    let peer = PresentationConfig { local: cfg.remote.clone(), remote: cfg.local.clone(), ..cfg.clone() };
    (Presentation::new(cfg.clone()).unwrap(), Presentation::new(peer).unwrap())
}

fn down(l6: &mut Presentation, sdu: &[u8]) -> Result<(Vec<u8>, Trace)> {
    let mut cx = Context::default();
    let pdus = l6.encapsulate(Pdu::bytes(sdu.to_vec()), &mut cx)?;
    assert_eq!(pdus.len(), 1);
    let (b, _) = pdus.into_iter().next().unwrap().into_bytes(L6)?;
    Ok((b, cx.trace))
}

/// Feed `wire` to `l6` in pieces ending at each of `cuts`: what it delivers, concatenated.
fn up_pieces(l6: &mut Presentation, wire: &[u8], cuts: &[usize], cx: &mut Context) -> Result<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(wire.len())).collect();
    cuts.push(wire.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts {
        if c == start {
            continue;
        }
        let pdu = Pdu { data: Data::Bytes(wire[start..c].to_vec()), meta: Meta { offset: 54, ..Default::default() } };
        if let Some(p) = l6.decapsulate(pdu, cx)? {
            out.extend(p.into_bytes(L6)?.0);
        }
        start = c;
    }
    Ok(out)
}

fn up(l6: &mut Presentation, wire: &[u8]) -> Result<(Vec<u8>, Trace)> {
    let mut cx = Context::default();
    let out = up_pieces(l6, wire, &[], &mut cx)?;
    Ok((out, cx.trace))
}

use crate::layer::Meta;

fn invalid_found(e: &Error) -> String {
    match &e.kind {
        ErrorKind::Invalid { found, .. } => found.clone(),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- known bytes: the primitives

/// RFC 8439 §2.8.2: the AEAD_CHACHA20_POLY1305 test vector, through the same `aead_seal` /
/// `aead_open` the records use (proves the crate is wired right: key, nonce, AAD, tag order).
#[test]
fn rfc8439_aead_test_vector() {
    let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
    let nonce: [u8; 12] = hex("07000000 4041424344454647").try_into().unwrap();
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let ciphertext = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
         3ff4def08e4b7a9de576d26586cec64b6116");
    let tag = hex("1ae10b594f09e26a7e902ecbd0600691");
    let sealed = tls::aead_seal(&key, &nonce, &aad, plaintext).unwrap();
    assert_eq!(sealed[..plaintext.len()], ciphertext[..]);
    assert_eq!(sealed[plaintext.len()..], tag[..]);
    assert_eq!(tls::aead_open(&key, &nonce, &aad, &sealed).unwrap(), plaintext);
    // One flipped bit anywhere, or other AAD: no plaintext.
    let mut bad = sealed.clone();
    bad[0] ^= 1;
    assert!(tls::aead_open(&key, &nonce, &aad, &bad).is_none());
    assert!(tls::aead_open(&key, &nonce, b"other", &sealed).is_none());
    assert!(tls::aead_open(&key, &nonce, &aad, &sealed[..15]).is_none());
}

/// HKDF-Expand-Label (RFC 8446 §7.1) against RFC 8448 §3 (the server's handshake write key and
/// IV, AES-128 sizes: 16 and 12 bytes, from its handshake traffic secret).
#[test]
fn hkdf_expand_label_rfc8448_vector() {
    let secret: [u8; 32] = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").try_into().unwrap();
    let key: [u8; 16] = hkdf_expand_label(&secret, "key", b"").unwrap();
    let iv: [u8; 12] = hkdf_expand_label(&secret, "iv", b"").unwrap();
    assert_eq!(key.to_vec(), hex("3fce516009c21727d0f2e4e86ee403bc"));
    assert_eq!(iv.to_vec(), hex("5d313eb2671276ee13000b30"));
}

/// The direction keys of 192.0.2.1:51000 under the secret 00..1f. Values computed independently
/// with python3's hmac and hashlib (HKDF-Expand = HMAC-SHA256 chain; HkdfLabel built by hand):
/// `secret = 00 20 | 1c "tls13 osilab 192.0.2.1:51000" | 00`, then "key" (32) and "iv" (12).
#[test]
fn direction_keys_known_values() {
    let secret: [u8; 32] = hkdf_expand_label(&PSK, "osilab 192.0.2.1:51000", b"").unwrap();
    assert_eq!(secret.to_vec(), hex("ffd75e9c7c0bf20096a8a8a53aca1ab98580c9cbb7eff714dc4e44435acfc3aa"));
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, b"").unwrap();
    assert_eq!(key.to_vec(), hex("d58b0f7cb026718d2d8abd8d4ecd305abddc232d61128da3466030c296461eff"));
    assert_eq!(iv.to_vec(), hex("79a439ac67bc316cd0db609d"));
    // The other direction has other keys.
    assert_ne!(derive_direction_keys(&PSK, REMOTE, b"").unwrap(), (key, iv));
}

/// The connection's identity goes into the context of the direction secret's
/// HKDF-Expand-Label (RFC 8446 §7.1's place for a transcript hash). Values computed independently
/// with python3's hmac and hashlib: `secret = 00 20 | 1c "tls13 osilab 192.0.2.1:51000" |
/// 31 "192.0.2.1:51000 > 192.0.2.2:3000 " a0 a1 … af`, then "key" and "iv" with an empty context.
#[test]
fn direction_keys_with_connection_context_known_values() {
    let mut context = b"192.0.2.1:51000 > 192.0.2.2:3000 ".to_vec();
    context.extend(0xa0..=0xafu8);
    let secret: [u8; 32] = hkdf_expand_label(&PSK, "osilab 192.0.2.1:51000", &context).unwrap();
    assert_eq!(secret.to_vec(), hex("5e27c90b540402df776fce22fcaa2a0a0b2cf801d7ac3ef07bb49871fd935a0a"));
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, &context).unwrap();
    assert_eq!(key.to_vec(), hex("0264a78a7ef1a9f76559ea4759512c00fcb9efe91122745041238330f66097a1"));
    assert_eq!(iv.to_vec(), hex("ff49b279e0f30a05ae004e58"));
    assert_ne!((key, iv), derive_direction_keys(&PSK, LOCAL, b"").unwrap());
    // Another connection nonce: other keys.
    let mut other = context.clone();
    *other.last_mut().unwrap() ^= 1;
    assert_ne!((key, iv), derive_direction_keys(&PSK, LOCAL, &other).unwrap());
}

/// Two connections under the same key, each with its own context, seal their first record under
/// different keys and nonces; both ends of one connection share it, and a receiver with another
/// context cannot open the records. The empty context still works (every other test).
#[test]
fn connection_context_separates_connections() {
    let mut cfg = config(true, TextEncoding::Utf8, Compression::None, true);
    let mut wires = Vec::new();
    for nonce in [[1u8; 16], [2u8; 16]] {
        cfg.context = b"192.0.2.1:51000 > 192.0.2.2:3000 ".to_vec();
        cfg.context.extend_from_slice(&nonce);
        let (mut tx, mut rx) = pair(&cfg);
        let (wire, t) = down(&mut tx, b"same words").unwrap();
        assert_eq!(up(&mut rx, &wire).unwrap().0, b"same words");
        let (key, iv) = derive_direction_keys(&PSK, LOCAL, &cfg.context).unwrap();
        assert_eq!(wire, seal_record(&key, &iv, 0, b"same words").unwrap());
        assert!(t.records[1].notes.iter().any(|n| n.contains("the connection's identity, 49 bytes, as the context")));
        wires.push((wire, t.records[1].field("presentation.nonce").unwrap().value.clone()));
    }
    assert_ne!(wires[0].0, wires[1].0, "same plaintext, other connection: other bytes");
    assert_ne!(wires[0].1, wires[1].1, "other nonce");
    // A receiver of the other connection (or with no context) fails authentication.
    let mut rx = pair(&cfg).1;
    let e = up(&mut rx, &wires[0].0).unwrap_err();
    assert!(invalid_found(&e).contains("bad_record_mac"), "{e}");
    let mut rx = pair(&config(true, TextEncoding::Utf8, Compression::None, true)).1;
    assert!(up(&mut rx, &wires[0].0).is_err());
    // At most 255 bytes (RFC 8446 §7.1), checked up front.
    cfg.context = vec![0; 256];
    let e = Presentation::new(cfg.clone()).unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::Config(m) if m.contains("connection context of 256 bytes")), "{e}");
    cfg.context = vec![0; 255];
    assert!(Presentation::new(cfg).is_ok());
}

/// RFC 8446 §7.1: label and context are at most 255 bytes; nothing is cut to fit.
#[test]
fn hkdf_expand_label_refuses_what_does_not_fit() {
    let secret = [7u8; 32];
    // "tls13 " + 249 bytes = 255: fits; one more does not.
    assert!(hkdf_expand_label::<32>(&secret, &"l".repeat(249), b"").is_ok());
    let e = hkdf_expand_label::<32>(&secret, &"l".repeat(250), b"").unwrap_err();
    assert_eq!(e.layer, Some(L6));
    assert!(matches!(&e.kind, ErrorKind::Config(m) if m.contains("label of 256 bytes")), "{e}");
    assert!(hkdf_expand_label::<32>(&secret, "key", &[0; 255]).is_ok());
    let e = hkdf_expand_label::<32>(&secret, "key", &[0; 256]).unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::Config(m) if m.contains("context of 256 bytes")), "{e}");
    // More than 255 × 32 bytes of output: refused, not zeros.
    assert!(hkdf_expand_label::<8161>(&secret, "key", b"").is_err());
    assert!(hkdf_expand_label::<8160>(&secret, "key", b"").is_ok());
}

/// RFC 8446 §5.3: the sequence number does not wrap. The last one, 2^64 − 1, is used; then
/// sealing and opening refuse.
#[test]
fn sequence_number_never_wraps() {
    let (mut tx, mut rx) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    tx.tx_seq = Some(u64::MAX);
    // The receiver reads what LOCAL sends.
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, b"").unwrap();
    rx.rx = Some(tls::RecordReader::starting_at(key, iv, u64::MAX));
    let (wire, t) = down(&mut tx, b"last").unwrap();
    assert_eq!(t.records[0].field("presentation.record_seq").unwrap().value, Value::Uint(u64::MAX));
    assert_eq!(up(&mut rx, &wire).unwrap().0, b"last");
    let e = down(&mut tx, b"one more").unwrap_err();
    assert_eq!(e.layer, Some(L6));
    assert!(e.to_string().contains("rekey or terminate"), "{e}");
    assert_eq!(invalid_found(&e), "every sequence number has been used");
    // A unit of two records, of which only the first has a number left: refused.
    let (mut tx, _) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    tx.tx_seq = Some(u64::MAX);
    assert!(down(&mut tx, &vec![0; tls::MAX_PLAINTEXT + 1]).is_err());
    // The receiver, likewise: a record after 2^64 − 1 is refused, not opened under nonce 0.
    let (mut tx0, _) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    let wire0 = down(&mut tx0, b"again").unwrap().0;
    let e = up(&mut rx, &wire0).unwrap_err();
    assert!(e.to_string().contains("rekey or terminate"), "{e}");
}

/// Debug output of the config, the layer and the record reader names no key, IV or secret.
#[test]
fn debug_redacts_keys() {
    let cfg = config(true, TextEncoding::Utf8, Compression::None, true);
    let (tx, rx) = pair(&cfg);
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, b"").unwrap();
    let (rkey, riv) = derive_direction_keys(&PSK, REMOTE, b"").unwrap();
    for shown in [format!("{cfg:?}"), format!("{tx:?}"), format!("{rx:?}"), format!("{:#?}", tx.rx)] {
        assert!(shown.contains("<redacted>"), "{shown}");
        for secret in
            [format!("{PSK:?}"), format!("{key:?}"), format!("{iv:?}"), format!("{rkey:?}"), format!("{riv:?}")]
        {
            let inner = secret.trim_start_matches('[').trim_end_matches(']');
            assert!(!shown.contains(inner), "{shown}");
        }
        for b in [&PSK[..], &key[..], &rkey[..]] {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            assert!(!shown.contains(&hex), "{shown}");
        }
        assert!(!shown.contains(&format!("{:#?}", PSK)), "{shown}");
    }
    // Without a key: no key shown either way.
    assert!(format!("{:?}", config(true, TextEncoding::Utf8, Compression::None, false)).contains("key: None"));
}

/// A TLS 1.3 application-data record, every byte explained. Key 80..9f, IV 07 00 00 00 40..47
/// (RFC 8439 §2.8.2's), sequence number 1, plaintext "Olá" (4f 6c c3 a1):
/// nonce = IV XOR 00..00 01 = 07 00 00 00 40 41 42 43 44 45 46 46 (RFC 8446 §5.3);
/// TLSInnerPlaintext = 4f 6c c3 a1 17 (5 bytes); header 17 03 03 00 15 (type 23, 0x0303,
/// length 5 + 16 = 21) is the additional data; ciphertext and tag computed independently with
/// python3 `cryptography`'s ChaCha20Poly1305.
#[test]
fn tls_record_known_bytes() {
    let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
    let iv: [u8; 12] = hex("070000004041424344454647").try_into().unwrap();
    assert_eq!(tls::record_nonce(&iv, 1).to_vec(), hex("070000004041424344454646"));
    let rec = seal_record(&key, &iv, 1, "Olá".as_bytes()).unwrap();
    assert_eq!(rec, hex("17030300 15 878831bdc5 00ab96b61b9e032b3a5a2d2fccdc47a4"));
    assert_eq!(open_record(&key, &iv, 1, &rec).unwrap(), "Olá".as_bytes());
    // The wrong sequence number (a replayed or reordered record) fails authentication.
    let e = open_record(&key, &iv, 0, &rec).unwrap_err();
    assert!(invalid_found(&e).contains("bad_record_mac"), "{e}");
}

/// `seal_record` seals one record of at most 2^14 bytes (RFC 8446 §5.1) and refuses more; the
/// layer splits a longer unit into records numbered on from its next sequence number.
#[test]
fn seal_record_splits_at_2_pow_14() {
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, b"").unwrap();
    let data = vec![0x41u8; tls::MAX_PLAINTEXT + 10];
    let full = seal_record(&key, &iv, 7, &data[..tls::MAX_PLAINTEXT]).unwrap();
    assert_eq!(full.len(), 5 + tls::MAX_PLAINTEXT + 1 + 16);
    let e = seal_record(&key, &iv, 7, &data).unwrap_err();
    assert_eq!(e.layer, Some(L6));
    assert_eq!(invalid_found(&e), format!("{} bytes", tls::MAX_PLAINTEXT + 10));
    let (mut tx, _) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    tx.tx_seq = Some(7);
    let recs = down(&mut tx, &data).unwrap().0;
    let first = RecordHeader::parse(&recs).unwrap();
    assert_eq!(usize::from(first.length), tls::MAX_PLAINTEXT + 1 + 16);
    let (a, b) = recs.split_at(first.record_len());
    assert_eq!(a, full);
    assert_eq!(open_record(&key, &iv, 7, a).unwrap(), &data[..tls::MAX_PLAINTEXT]);
    assert_eq!(open_record(&key, &iv, 8, b).unwrap(), &data[tls::MAX_PLAINTEXT..]);
    assert_eq!(b, seal_record(&key, &iv, 8, &data[tls::MAX_PLAINTEXT..]).unwrap());
    // An empty unit is one record of just the inner content type (RFC 8446 §5.4 allows it).
    assert_eq!(seal_record(&key, &iv, 0, b"").unwrap().len(), 5 + 1 + 16);
    let (mut tx, _) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    assert_eq!(down(&mut tx, b"").unwrap().0, seal_record(&key, &iv, 0, b"").unwrap());
}

// ---------------------------------------------------------------- known bytes: text

#[test]
fn utf16be_with_bom_known_bytes() {
    let b = text::encode("Olá, sala!", TextEncoding::Utf16Be, true).unwrap();
    assert_eq!(b, hex("feff 004f 006c 00e1 002c 0020 0073 0061 006c 0061 0021"));
    // RFC 2781 §2.1: U+1F600 = D83D DE00 (a surrogate pair).
    assert_eq!(text::encode_utf16be("😀", false), hex("d83d de00"));
}

/// RFC 2781 §3.3: text labelled "UTF-16BE" carries no byte order mark; what this layer sends
/// (big-endian, FE FF first) is named for what it is, the CLI value `utf-16be` still selects it,
/// and the sections cited are those of the mark (§3.2) and of reading it (§4.3).
#[test]
fn utf16_label_names_the_byte_order_mark() {
    for v in ["utf-16be", "UTF-16BE", "utf16be", "utf-16"] {
        assert_eq!(v.parse::<TextEncoding>(), Ok(TextEncoding::Utf16Be), "{v}");
    }
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf16Be, Compression::None, false));
    let (wire, t) = down(&mut tx, "Olá".as_bytes()).unwrap();
    let r = &t.records[0];
    assert_eq!(r.title, "Text encoding: UTF-16 (big-endian, byte order mark FE FF), RFC 2781");
    assert_eq!(
        r.field("presentation.encoding").unwrap().value,
        Value::Text("UTF-16 (big-endian, byte order mark FE FF)".into())
    );
    assert!(r.notes[0].contains("(RFC 2781 §3.2)") && r.notes[0].contains("\"UTF-16BE\" would carry none (§3.3)"));
    let (_, t) = up(&mut rx, &wire).unwrap();
    assert_eq!(t.records[0].notes, ["byte order mark FE FF read: big-endian (RFC 2781 §3.2, §4.3)"]);
    assert!(t.records[0].summary.starts_with("8 bytes (UTF-16) → 3 characters"), "{}", t.records[0].summary);
    let shown = t.to_string() + &serde_json::to_string(&t).unwrap();
    assert!(!shown.contains("UTF-16BE ") && !shown.contains("UTF-16BE)") && !shown.contains("UTF-16BE\""), "{shown}");
    // A stream without the mark is refused, and the error says that is osilab's choice.
    let e = up(&mut utf16_rx(Compression::None), &hex("004f")).unwrap_err();
    assert_eq!(e.protocol, "UTF-16");
    assert!(e.to_string().contains("osilab requires it") && e.to_string().contains("RFC 2781 §4.3"), "{e}");
}

#[test]
fn latin1_known_bytes_and_refusal() {
    assert_eq!(text::encode_latin1("Olá").unwrap(), hex("4f 6c e1"));
    let e = text::encode_latin1("Olá 5€").unwrap_err();
    assert_eq!(e.layer, Some(L6));
    let msg = e.to_string();
    assert!(msg.contains("'€' (U+20AC) cannot be represented in ISO-8859-1"), "{msg}");
    assert!(msg.contains("character 5"), "{msg}");
}

#[test]
fn utf8_counts_characters_and_bytes() {
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf8, Compression::None, false));
    let (wire, t) = down(&mut tx, "Olá".as_bytes()).unwrap();
    assert_eq!(wire, "Olá".as_bytes());
    let r = &t.records[0];
    assert_eq!(r.summary, "3 characters → 4 bytes (UTF-8)");
    assert_eq!(r.field("presentation.characters").unwrap().value, Value::Uint(3));
    assert_eq!(r.field("presentation.size_before").unwrap().value, Value::Uint(4));
    assert_eq!(r.field("presentation.size_after").unwrap().value, Value::Uint(4));
    assert_eq!(r.field("presentation.encoding").unwrap().value, Value::Text("UTF-8".into()));
    let (got, t) = up(&mut rx, &wire).unwrap();
    assert_eq!(got, "Olá".as_bytes());
    assert_eq!(t.records[0].summary, "4 bytes → 3 characters (UTF-8)");
}

#[test]
fn utf16_and_latin1_records_show_sizes() {
    let (mut tx, _) = pair(&config(true, TextEncoding::Utf16Be, Compression::None, false));
    let (wire, t) = down(&mut tx, "Olá".as_bytes()).unwrap();
    assert_eq!(wire.len(), 8);
    let r = &t.records[0];
    assert!(r.summary.starts_with("3 characters, 4 bytes of UTF-8 → 8 bytes (UTF-16)"), "{}", r.summary);
    assert_eq!((r.header.clone(), r.payload_len, r.overhead), (0..2, 6, 2));
    // Only the stream's first unit carries the byte order mark.
    let (wire2, _) = down(&mut tx, "Olá".as_bytes()).unwrap();
    assert_eq!(wire2, hex("004f 006c 00e1"));
    let (mut tx, _) = pair(&config(true, TextEncoding::Latin1, Compression::None, false));
    let (wire, t) = down(&mut tx, "Olá".as_bytes()).unwrap();
    assert_eq!(wire, hex("4f6ce1"));
    assert_eq!(t.records[0].summary, "3 characters, 4 bytes of UTF-8 → 3 bytes (ISO-8859-1)");
}

// ---------------------------------------------------------------- known bytes: compression

#[test]
fn deflate_and_gzip_round_trip() {
    let data = "Olá, sala! ".repeat(40);
    for c in [Compression::Deflate, Compression::Gzip] {
        let z = compress(data.as_bytes(), c).unwrap();
        assert!(z.len() < data.len() / 4, "{c:?}: {} bytes", z.len());
        assert_eq!(decompress(&z, c).unwrap(), data.as_bytes());
    }
    let gz = compress(b"", Compression::Gzip).unwrap();
    // RFC 1952 §2.3.1: ID1 ID2 = 1f 8b, CM = 8; trailer CRC32 0 and ISIZE 0 for no data.
    assert_eq!(gz[..3], [0x1f, 0x8b, 0x08]);
    assert_eq!(gz[gz.len() - 8..], [0; 8]);
    assert_eq!(decompress(&gz, Compression::Gzip).unwrap(), b"");
}

#[test]
fn compression_record_fields() {
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf8, Compression::Gzip, false));
    let data = "abcabcabc".repeat(100);
    let (wire, t) = down(&mut tx, data.as_bytes()).unwrap();
    let r = &t.records[1];
    assert_eq!(r.protocol, "presentation");
    assert_eq!(r.field("presentation.compression").unwrap().value, Value::Text("gzip".into()));
    assert_eq!(r.field("presentation.size_before").unwrap().value, Value::Uint(900));
    assert_eq!(r.field("presentation.size_after").unwrap().value, Value::Uint(wire.len() as u64));
    let pct = (wire.len() * 100 + 450) / 900;
    assert_eq!(r.field("presentation.ratio").unwrap().value, Value::Text(format!("{pct}%")));
    assert_eq!((r.header.clone(), r.trailer.clone()), (0..10, Some(wire.len() - 8..wire.len())));
    assert_eq!(r.pdu_len(), wire.len());
    let (got, t) = up(&mut rx, &wire).unwrap();
    assert_eq!(got, data.as_bytes());
    assert!(t.all_checks_ok());
    assert_eq!(t.records[0].checks[0].name, "presentation.crc32.status");
}

/// Going up, a stream split anywhere is held (Ok(None), holding) until it ends; bytes after the
/// end start the next stream.
#[test]
fn compressed_stream_in_pieces_and_back_to_back() {
    for c in [Compression::Deflate, Compression::Gzip] {
        let (mut tx, mut rx) = pair(&config(false, TextEncoding::Utf8, c, false));
        let a = down(&mut tx, b"first unit, first unit").unwrap().0;
        let b = down(&mut tx, b"second").unwrap().0;
        let mut cx = Context::default();
        let half = Pdu::bytes(a[..a.len() / 2].to_vec());
        assert_eq!(rx.decapsulate(half, &mut cx).unwrap(), None);
        assert!(rx.holding());
        assert!(cx.trace.records[0].notes[0].contains("held until the stream ends"));
        let mut rest = a[a.len() / 2..].to_vec();
        rest.extend_from_slice(&b[..3]);
        let got = rx.decapsulate(Pdu::bytes(rest), &mut cx).unwrap().unwrap();
        assert_eq!(got.into_bytes(L6).unwrap().0, b"first unit, first unit");
        assert!(rx.holding());
        let got = rx.decapsulate(Pdu::bytes(b[3..].to_vec()), &mut cx).unwrap().unwrap();
        assert_eq!(got.into_bytes(L6).unwrap().0, b"second");
        assert!(!rx.holding());
    }
}

/// Empty stored blocks (RFC 1951 §3.2.4: BFINAL 0, BTYPE 00, LEN 0, NLEN FFFF) never end a
/// stream: the inflater counts what it takes instead of keeping it, and refuses the unit once it
/// passes MAX_COMPRESSED bytes (the real bound, fed 1 MiB at a time).
#[test]
fn endless_empty_stored_blocks_are_refused() {
    let block = [0x00, 0x00, 0x00, 0xff, 0xff];
    let piece: Vec<u8> = block.iter().copied().cycle().take(5 * (1 << 18)).collect();
    let mut inf = Inflater::new(Compression::Deflate);
    let mut fed = 0;
    let e = loop {
        match inf.push(&piece, None) {
            Ok(units) => {
                assert!(units.is_empty());
                fed += piece.len();
                assert_eq!(inf.taken(), fed);
                assert!(fed <= compress::MAX_COMPRESSED, "{fed}");
            }
            Err(e) => break e,
        }
    };
    assert!(fed + piece.len() > compress::MAX_COMPRESSED);
    assert_eq!(e.layer, Some(L6));
    assert_eq!(invalid_found(&e), format!("{} bytes and not ended", compress::MAX_COMPRESSED + 1));
    assert!(e.to_string().contains(&format!("a stream that ends within {} bytes", compress::MAX_COMPRESSED)));
}

/// MAX_UNIT is a real cap: a unit of exactly the bound is delivered, one byte more is refused,
/// and the output never grows past bound + 1 while finding out.
#[test]
fn inflated_unit_bound_is_exact() {
    for c in [Compression::Deflate, Compression::Gzip] {
        let max = 100_000;
        let ok = compress(&vec![0u8; max], c).unwrap();
        let mut inf = Inflater::with_limits(c, max, 1 << 20);
        assert_eq!(inf.push(&ok, None).unwrap()[0].data.len(), max);
        let bomb = compress(&vec![0u8; max + 1], c).unwrap();
        let mut inf = Inflater::with_limits(c, max, 1 << 20);
        let e = inf.push(&bomb, None).unwrap_err();
        assert_eq!(e.layer, Some(L6));
        assert_eq!(invalid_found(&e), format!("more than {max} bytes"));
        assert!(inf.out.len() <= max + 1, "{}", inf.out.len());
        assert!(inf.out.capacity() <= max + 1 + 32 * 1024, "{}", inf.out.capacity());
        // The compressed bound, likewise: the bomb is small, a bound below it refuses it.
        let mut inf = Inflater::with_limits(c, 1 << 20, 20);
        let e = inf.push(&bomb, None).unwrap_err();
        assert_eq!(invalid_found(&e), "21 bytes and not ended");
    }
}

/// A gzip member with every optional header field at its largest: FEXTRA of 65535 bytes, FNAME,
/// FCOMMENT and FHCRC. It is accepted, and the record's header range is the real header.
#[test]
fn gzip_header_with_every_field() {
    let data = "Olá, sala! ".repeat(20);
    let deflated = compress(data.as_bytes(), Compression::Deflate).unwrap();
    // FLG = FHCRC | FEXTRA | FNAME | FCOMMENT; MTIME 0; XFL 0; OS 3 (Unix).
    let mut gz = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3];
    gz.extend_from_slice(&u16::MAX.to_le_bytes());
    gz.extend((0..u16::MAX).map(|i| i as u8));
    gz.extend_from_slice(&vec![b'n'; compress::MAX_GZIP_STRING - 1]);
    gz.push(0);
    gz.extend_from_slice(&vec![b'c'; compress::MAX_GZIP_STRING - 1]);
    gz.push(0);
    let hcrc = (crc32fast::hash(&gz) & 0xffff) as u16;
    gz.extend_from_slice(&hcrc.to_le_bytes());
    let header_len = gz.len();
    assert_eq!(header_len, compress::MAX_GZIP_HEADER);
    gz.extend_from_slice(&deflated);
    let crc = crc32fast::hash(data.as_bytes());
    gz.extend_from_slice(&crc.to_le_bytes());
    gz.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let h = compress::parse_gzip_header(&gz).unwrap().unwrap();
    assert_eq!((h.len, h.name.as_ref().map(Vec::len)), (header_len, Some(compress::MAX_GZIP_STRING - 1)));
    for cuts in [vec![], vec![7, 70_000, 140_000, header_len + 3]] {
        let mut rx = pair(&config(true, TextEncoding::Utf8, Compression::Gzip, false)).1;
        let mut cx = Context::default();
        assert_eq!(up_pieces(&mut rx, &gz, &cuts, &mut cx).unwrap(), data.as_bytes());
        let r = cx.trace.records.iter().find(|r| !r.checks.is_empty()).unwrap();
        assert_eq!(r.header, 0..header_len);
        assert_eq!(r.trailer, Some(gz.len() - 8..gz.len()));
        assert_eq!((r.payload_len, r.overhead), (deflated.len(), header_len + 8));
        // The check shows the stored CRC and the one computed here.
        assert_eq!(r.checks[0].detail, format!("0x{crc:08x} (computed 0x{crc:08x}), ISIZE {}", data.len()));
    }
    // A longer FNAME is refused, at its first byte.
    let mut long = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
    long.extend_from_slice(&vec![b'n'; compress::MAX_GZIP_STRING]);
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Gzip, false)).1;
    let e = up(&mut rx, &long).unwrap_err();
    assert_eq!(e.offset, Some(54 + 10));
    assert!(e.to_string().contains("gzip FNAME"), "{e}");
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Gzip, false)).1;
    let mut cx = Context::default();
    long.push(0);
    let e = up_pieces(&mut rx, &long, &[20], &mut cx).unwrap_err();
    assert_eq!(invalid_found(&e), format!("{} bytes", compress::MAX_GZIP_STRING + 1));
}

/// The CRC-32 check's detail shows the stored value and the value computed over the data,
/// each read independently here.
#[test]
fn gzip_crc_detail_shows_stored_and_computed() {
    let data = b"stored and computed";
    let gz = compress(data, Compression::Gzip).unwrap();
    let n = gz.len();
    let stored = u32::from_le_bytes(gz[n - 8..n - 4].try_into().unwrap());
    let computed = crc32fast::hash(data);
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Gzip, false)).1;
    let (_, t) = up(&mut rx, &gz).unwrap();
    let check = &t.records[0].checks[0];
    assert_eq!(check.detail, format!("0x{stored:08x} (computed 0x{computed:08x}), ISIZE {}", data.len()));
    let mut inf = Inflater::new(Compression::Gzip);
    let unit = inf.push(&gz, None).unwrap().remove(0);
    let trailer = unit.gzip.unwrap().1;
    assert_eq!((trailer.stored_crc, trailer.computed_crc, trailer.isize), (stored, computed, data.len() as u32));
}

// ---------------------------------------------------------------- encryption through the layer

#[test]
fn tls_records_in_the_trace() {
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf8, Compression::None, true));
    let (wire, t) = down(&mut tx, "Olá".as_bytes()).unwrap();
    let (key, iv) = derive_direction_keys(&PSK, LOCAL, b"").unwrap();
    assert_eq!(wire, seal_record(&key, &iv, 0, "Olá".as_bytes()).unwrap());
    let r = &t.records[1];
    assert_eq!((&*r.protocol, r.title.as_str()), ("tls", "Transport Layer Security"));
    assert_eq!(r.field("tls.record.content_type").unwrap().value.to_string(), "23");
    assert_eq!(r.field("tls.record.version").unwrap().value.to_string(), "0x0303");
    assert_eq!(r.field("tls.record.length").unwrap().value, Value::Uint(4 + 1 + 16));
    assert_eq!(r.field("tls.app_data").unwrap().value, Value::Bytes(wire[5..].to_vec()));
    assert_eq!(r.field("presentation.cipher").unwrap().value.to_string(), "ChaCha20-Poly1305");
    assert_eq!(r.field("presentation.record_seq").unwrap().value, Value::Uint(0));
    assert_eq!(r.field("presentation.nonce").unwrap().value, Value::Bytes(iv.to_vec()));
    assert_eq!(r.field("presentation.size_before").unwrap().value, Value::Uint(4));
    assert_eq!(r.field("presentation.size_after").unwrap().value, Value::Uint(26));
    assert_eq!(r.summary, "Application Data, seq 0: 4 bytes → 26 bytes (ChaCha20-Poly1305, 4 bytes of content)");
    assert_eq!(r.pdu_len(), wire.len());
    // The second unit is record 1, with its own nonce.
    let (wire2, t2) = down(&mut tx, b"again").unwrap();
    assert_eq!(t2.records[1].field("presentation.record_seq").unwrap().value, Value::Uint(1));
    assert_eq!(
        t2.records[1].field("presentation.nonce").unwrap().value,
        Value::Bytes(tls::record_nonce(&iv, 1).to_vec())
    );
    let mut both = wire.clone();
    both.extend_from_slice(&wire2);
    let (got, t) = up(&mut rx, &both).unwrap();
    assert_eq!(got, "Olá again".replace(' ', "").as_bytes());
    assert!(t.all_checks_ok());
    assert_eq!(t.values("presentation.record_seq"), [&Value::Uint(0), &Value::Uint(1)]);
}

#[test]
fn big_unit_becomes_several_records() {
    let (mut tx, mut rx) = pair(&config(false, TextEncoding::Utf8, Compression::None, true));
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (wire, t) = down(&mut tx, &data).unwrap();
    let parts: Vec<_> = t.records.iter().map(|r| r.part).collect();
    assert_eq!(parts, [1, 2, 3].map(|i| Some(Part { index: i, count: 3 })));
    assert_eq!(wire.len(), data.len() + 3 * 22);
    // Across arbitrary 1448-byte TCP pieces: held, then delivered.
    let cuts: Vec<usize> = (1..=wire.len() / 1448).map(|i| i * 1448).collect();
    let mut cx = Context::default();
    assert_eq!(up_pieces(&mut rx, &wire, &cuts, &mut cx).unwrap(), data);
    assert!(cx.trace.records.iter().any(|r| r.notes.iter().any(|n| n.starts_with("waiting for"))));
    assert!(!rx.holding());
}

// ---------------------------------------------------------------- errors

#[test]
fn new_refuses_text_encoding_for_binary() {
    for enc in [TextEncoding::Utf16Be, TextEncoding::Latin1] {
        let e = Presentation::new(config(false, enc, Compression::None, false)).unwrap_err();
        assert_eq!(e.layer, Some(L6));
        assert!(
            matches!(&e.kind, ErrorKind::Config(m) if m.contains("messages are octets, not text") && m.contains("no text encoding"))
        );
    }
    assert!(Presentation::new(config(false, TextEncoding::Utf8, Compression::Gzip, true)).is_ok());
    let long =
        PresentationConfig { local: "x".repeat(300), ..config(true, TextEncoding::Utf8, Compression::None, true) };
    assert!(Presentation::new(long).is_err());
}

#[test]
fn not_utf8_text() {
    let bytes = [b'o', b'k', 0xff, 0x00];
    // UTF-8: passed through, with a note.
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf8, Compression::None, false));
    let (wire, t) = down(&mut tx, &bytes).unwrap();
    assert_eq!(wire, bytes);
    assert!(t.records[0].notes[0].starts_with("not UTF-8 text: passed as bytes"));
    let (got, t) = up(&mut rx, &wire).unwrap();
    assert_eq!(got, bytes);
    assert_eq!(t.records[0].notes[0], "not UTF-8 text: passed as bytes");
    // Another encoding: an error naming the byte.
    for enc in [TextEncoding::Utf16Be, TextEncoding::Latin1] {
        let (mut tx, _) = pair(&config(true, enc, Compression::None, false));
        let e = down(&mut tx, &bytes).unwrap_err();
        assert_eq!(e.layer, Some(L6));
        assert!(e.to_string().contains("text at byte 2 of the message"), "{e}");
    }
}

fn utf16_rx(compression: Compression) -> Presentation {
    pair(&config(true, TextEncoding::Utf16Be, compression, false)).1
}

#[test]
fn utf16_bad_input() {
    // No byte order mark, and a little-endian one: at the frame offset of the stream's first byte.
    let e = up(&mut utf16_rx(Compression::None), &hex("004f")).unwrap_err();
    assert_eq!((e.layer, e.offset), (Some(L6), Some(54)));
    assert!(invalid_found(&e).contains("no byte order mark"));
    let e = up(&mut utf16_rx(Compression::None), &hex("fffe 4f00")).unwrap_err();
    assert!(invalid_found(&e).contains("little-endian"));
    // A high surrogate followed by a letter; a low surrogate alone.
    let e = up(&mut utf16_rx(Compression::None), &hex("feff d83d 0041")).unwrap_err();
    assert_eq!(e.offset, Some(56));
    assert!(invalid_found(&e).contains("unpaired surrogate D83D"));
    let e = up(&mut utf16_rx(Compression::None), &hex("feff 0041 de00")).unwrap_err();
    assert_eq!(e.offset, Some(58));
    assert!(invalid_found(&e).contains("unpaired surrogate DE00"));
    // At the end of a unit (a decompressed stream): an odd byte, a high surrogate.
    let odd = compress(&hex("feff 0041 00"), Compression::Deflate).unwrap();
    let e = up(&mut utf16_rx(Compression::Deflate), &odd).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 2, available: 1, .. }), "{e}");
    let hi = compress(&hex("feff d83d"), Compression::Deflate).unwrap();
    let e = up(&mut utf16_rx(Compression::Deflate), &hi).unwrap_err();
    assert!(invalid_found(&e).contains("at the end of the unit"));
}

/// A code unit, a surrogate pair and the byte order mark split between pieces are held, and the
/// layer says so.
#[test]
fn utf16_split_between_pieces() {
    let wire = text::encode_utf16be("a😀b", true);
    for cut in 0..=wire.len() {
        let mut rx = utf16_rx(Compression::None);
        let mut cx = Context::default();
        let first = rx.decapsulate(Pdu::bytes(wire[..cut].to_vec()), &mut cx).unwrap();
        let held = rx.holding();
        let second = rx.decapsulate(Pdu::bytes(wire[cut..].to_vec()), &mut cx).unwrap();
        let mut got = first.map(|p| p.into_bytes(L6).unwrap().0).unwrap_or_default();
        got.extend(second.unwrap().into_bytes(L6).unwrap().0);
        assert_eq!(got, "a😀b".as_bytes(), "cut {cut}");
        // Inside the BOM, a unit or the pair (bytes 1, 3, 5, 6, 7, 9): held.
        assert_eq!(held, [1, 3, 5, 6, 7, 9].contains(&cut), "cut {cut}");
        assert!(!rx.holding());
    }
}

/// The byte order mark split between pieces (FE in one, FF in the next), then the text one byte
/// per piece: no panic, and each record counts only the mark's bytes it holds as header.
#[test]
fn utf16_bom_split_one_byte_per_piece() {
    let wire = text::encode_utf16be("Olá", true);
    assert_eq!(wire[..2], [0xfe, 0xff]);
    let mut rx = utf16_rx(Compression::None);
    let mut cx = Context::default();
    let cuts: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(up_pieces(&mut rx, &wire, &cuts, &mut cx).unwrap(), "Olá".as_bytes());
    assert!(!rx.holding());
    let ranges: Vec<_> =
        cx.trace.records.iter().map(|r| (r.header.clone(), r.payload_len, r.overhead, r.pdu_len())).collect();
    assert_eq!(ranges.len(), wire.len());
    // FE, then FF: one byte of the mark each, no payload.
    assert_eq!(ranges[0], (0..1, 0, 1, 1));
    assert_eq!(ranges[1], (0..1, 0, 1, 1));
    // Then one byte of text each.
    for (i, r) in ranges.iter().enumerate().skip(2) {
        assert_eq!(*r, (0..0, 1, 0, 1), "piece {i}");
    }
    assert!(cx.trace.records[1].notes.iter().any(|n| n.contains("byte order mark FE FF read")));
    assert!(!cx.trace.records[0].notes.iter().any(|n| n.contains("byte order mark FE FF read")));
}

/// The end of the stream with nothing held is fine; with a compressed stream or a UTF-16
/// character part-way in, it is an error naming L6, with a record whose check failed.
#[test]
fn finish_reports_what_was_cut_short() {
    // Nothing held: whole units delivered, in every stage.
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf16Be, Compression::Gzip, true));
    let wire = down(&mut tx, "Olá".as_bytes()).unwrap().0;
    assert_eq!(up(&mut rx, &wire).unwrap().0, "Olá".as_bytes());
    let mut cx = Context::default();
    assert_eq!(rx.finish(&mut cx), Ok(()));
    assert!(cx.trace.records.is_empty());
    // A compressed stream cut anywhere: header, body or trailer.
    for c in [Compression::Deflate, Compression::Gzip] {
        let (mut tx, _) = pair(&config(false, TextEncoding::Utf8, c, false));
        let z = down(&mut tx, b"a unit that ends in its stream").unwrap().0;
        for n in 1..z.len() {
            let mut rx = pair(&config(false, TextEncoding::Utf8, c, false)).1;
            let mut cx = Context::default();
            assert_eq!(up_pieces(&mut rx, &z[..n], &[], &mut cx).unwrap(), b"", "{c:?} {n}");
            let mut end = Context::default();
            let e = rx.finish(&mut end).unwrap_err();
            assert_eq!(e.layer, Some(L6));
            let name = if c == Compression::Gzip { "gzip" } else { "deflate" };
            let found = invalid_found(&e);
            assert!(found.starts_with(&format!("the {name} stream ended early")), "{c:?} {n}: {e}");
            assert!(found.ends_with(&format!("after {n} compressed bytes")), "{c:?} {n}: {e}");
            let r = &end.trace.records[0];
            assert_eq!(r.checks[0].name, "presentation.stream.status");
            assert!(!r.checks[0].ok);
        }
    }
    // UTF-16: a dangling byte of the mark, of a code unit, and an unpaired high surrogate.
    for (bytes, what) in [
        ("fe", "truncated UTF-16 byte order mark at the end of the stream"),
        ("feff 00", "truncated UTF-16 code unit at the end of the stream"),
        ("feff 0041 d83d", "unpaired surrogate D83D at the end of the stream"),
    ] {
        let mut rx = utf16_rx(Compression::None);
        let mut cx = Context::default();
        up_pieces(&mut rx, &hex(bytes), &[], &mut cx).unwrap();
        assert!(rx.holding(), "{bytes}");
        let mut end = Context::default();
        let e = rx.finish(&mut end).unwrap_err();
        assert_eq!((e.layer, e.offset), (Some(L6), None));
        assert!(e.to_string().contains(what), "{bytes}: {e}");
        assert_eq!(end.trace.records[0].checks[0].name, "presentation.text.status");
        assert!(!end.trace.all_checks_ok());
    }
    // Several stages cut at once: a record per stage, the error of the first (the TLS record).
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf16Be, Compression::Deflate, true));
    let wire = down(&mut tx, "Olá".as_bytes()).unwrap().0;
    let mut cx = Context::default();
    up_pieces(&mut rx, &wire[..wire.len() - 1], &[], &mut cx).unwrap();
    let mut end = Context::default();
    let e = rx.finish(&mut end).unwrap_err();
    assert!(invalid_found(&e).starts_with("truncated record"), "{e}");
    assert_eq!(end.trace.records.len(), 1, "only the TLS record holds bytes");
}

#[test]
fn corrupt_compressed_data() {
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Deflate, false)).1;
    // BTYPE = 11 is reserved (RFC 1951 §3.2.3): an error.
    let e = up(&mut rx, &[0x07, 0x00]).unwrap_err();
    assert_eq!(e.layer, Some(L6));
    assert!(invalid_found(&e).starts_with("corrupt data"), "{e}");
    let mut gz = compress(b"hello", Compression::Gzip).unwrap();
    let n = gz.len();
    gz[n - 8] ^= 1;
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Gzip, false)).1;
    let e = up(&mut rx, &gz).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Checksum { width: 4, .. }), "{e}");
    let mut rx = pair(&config(false, TextEncoding::Utf8, Compression::Gzip, false)).1;
    let e = up(&mut rx, b"hello").unwrap_err();
    assert_eq!(e.offset, Some(54));
    assert!(e.to_string().contains("gzip ID1"), "{e}");
}

fn sealed_wire() -> (Vec<u8>, Presentation) {
    let (mut tx, rx) = pair(&config(true, TextEncoding::Utf8, Compression::None, true));
    (down(&mut tx, b"attack at dawn").unwrap().0, rx)
}

#[test]
fn tampered_tls_record_every_byte() {
    let (wire, _) = sealed_wire();
    let len = usize::from(u16::from_be_bytes([wire[3], wire[4]]));
    for i in 0..wire.len() {
        let (_, mut rx) = sealed_wire();
        let mut bad = wire.clone();
        // In the length's high byte, 0x41 makes it exceed 2^14 + 256.
        bad[i] ^= if i == 3 { 0x41 } else { 0x40 };
        let result = up(&mut rx, &bad);
        let new_len = usize::from(u16::from_be_bytes([bad[3], bad[4]]));
        if (3..5).contains(&i) && new_len > len && new_len <= tls::MAX_CIPHERTEXT {
            // A longer length: the record is not whole yet, so the layer waits for the rest.
            assert_eq!(result.unwrap().0, b"", "byte {i}");
            assert!(rx.holding());
            continue;
        }
        let e = result.unwrap_err();
        assert_eq!(e.layer, Some(L6), "byte {i}");
        let msg = e.to_string();
        match i {
            0 => assert!(msg.contains("content type") && e.offset == Some(54), "{msg}"),
            1 | 2 => assert!(msg.contains("version") && e.offset == Some(55), "{msg}"),
            3 => assert!(msg.contains("record_overflow") && e.offset == Some(57), "{msg}"),
            _ if new_len < 17 => assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{msg}"),
            _ => {
                assert!(msg.contains("record authentication failed (RFC 8446 §5.2: bad_record_mac)"), "{msg}");
                assert_eq!(e.offset, Some(54), "the record's first byte");
            }
        }
    }
}

#[test]
fn truncated_and_shortened_tls_records() {
    let (wire, _) = sealed_wire();
    // Cut short: held, waiting (the stream may bring the rest); when the stream then ends, the
    // record is truncated and fails authentication.
    for n in 0..wire.len() {
        let (_, mut rx) = sealed_wire();
        let mut cx = Context::default();
        assert_eq!(up_pieces(&mut rx, &wire[..n], &[], &mut cx).unwrap(), b"", "{n}");
        assert_eq!(rx.holding(), n > 0);
        let mut end = Context::default();
        let done = rx.finish(&mut end);
        if n == 0 {
            assert_eq!(done, Ok(()));
            assert!(end.trace.records.is_empty());
            continue;
        }
        let e = done.unwrap_err();
        assert_eq!((e.layer, e.offset), (Some(L6), None), "{n}");
        let found = invalid_found(&e);
        let of = if n < 5 { format!("{n} of the header's 5 bytes") } else { format!("{n} of {} bytes", wire.len()) };
        assert!(found.starts_with(&format!("truncated record: {of}")), "{n}: {e}");
        assert!(found.ends_with("(RFC 8446 §5.2: bad_record_mac)"), "{n}: {e}");
        let r = &end.trace.records[0];
        assert_eq!((r.layer, &*r.protocol), (L6, "tls"));
        assert_eq!(r.checks.len(), 1);
        assert_eq!((&*r.checks[0].name, r.checks[0].ok), ("presentation.tag.status", false));
        assert!(!end.trace.all_checks_ok());
    }
    // Cut with its length field made to match: the tag no longer verifies.
    let (_, mut rx) = sealed_wire();
    let mut cut = wire[..wire.len() - 3].to_vec();
    cut[4] -= 3;
    let e = up(&mut rx, &cut).unwrap_err();
    assert!(invalid_found(&e).contains("bad_record_mac"), "{e}");
    // Header checks.
    let (_, mut rx) = sealed_wire();
    let e = up(&mut rx, &hex("1603030020")).unwrap_err();
    assert_eq!(e.offset, Some(54));
    assert!(invalid_found(&e).contains("22 (Handshake)"));
    let (_, mut rx) = sealed_wire();
    let e = up(&mut rx, &hex("1703014100")).unwrap_err();
    assert_eq!(e.offset, Some(55));
    let (_, mut rx) = sealed_wire();
    let e = up(&mut rx, &hex("1703034101")).unwrap_err();
    assert_eq!(e.offset, Some(57));
    assert!(invalid_found(&e).contains("record_overflow"));
    let (_, mut rx) = sealed_wire();
    let e = up(&mut rx, &hex("1703030010")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 17, available: 16, .. }), "{e}");
}

/// A record that starts in an earlier piece has no offset in this frame.
#[test]
fn bad_record_offset_unknown_across_pieces() {
    let (mut wire, mut rx) = sealed_wire();
    let n = wire.len();
    wire[n - 1] ^= 1;
    let mut cx = Context::default();
    let e = up_pieces(&mut rx, &wire, &[10], &mut cx).unwrap_err();
    assert_eq!(e.offset, None);
    assert!(invalid_found(&e).contains("bad_record_mac"));
}

#[test]
fn no_transform_record() {
    let (mut tx, mut rx) = pair(&config(false, TextEncoding::Utf8, Compression::None, false));
    let (wire, t) = down(&mut tx, &[1, 2, 3]).unwrap();
    assert_eq!(wire, [1, 2, 3]);
    assert_eq!(t.records.len(), 1);
    assert!(t.records[0].summary.starts_with("3 bytes passed unchanged"));
    let (got, t) = up(&mut rx, &wire).unwrap();
    assert_eq!((got, t.records.len()), (vec![1, 2, 3], 1));
}

#[test]
fn one_record_per_transform_in_order() {
    let (mut tx, mut rx) = pair(&config(true, TextEncoding::Utf16Be, Compression::Gzip, true));
    let (wire, t) = down(&mut tx, "Olá, sala!".as_bytes()).unwrap();
    let protos: Vec<_> = t.records.iter().map(|r| (&*r.protocol, r.title.as_str())).collect();
    assert_eq!(
        protos,
        [
            ("presentation", "Text encoding: UTF-16 (big-endian, byte order mark FE FF), RFC 2781"),
            ("presentation", "Compression: gzip (RFC 1952)"),
            ("tls", "Transport Layer Security")
        ]
    );
    assert!(t.records.iter().all(|r| r.direction == Direction::Down && r.layer == L6 && r.pdu == PduName::Data));
    let (got, t) = up(&mut rx, &wire).unwrap();
    assert_eq!(got, "Olá, sala!".as_bytes());
    let protos: Vec<_> = t.records.iter().map(|r| &*r.protocol).collect();
    assert_eq!(protos, ["tls", "presentation", "presentation"]);
    // The tree shows it all.
    let tree = t.to_string();
    for s in [
        "[tls.record.version]",
        "[presentation.ratio]",
        "[presentation.characters]",
        "[presentation.tag.status]",
        "[presentation.crc32.status]",
    ] {
        assert!(tree.contains(s), "{s} in\n{tree}");
    }
    assert!(serde_json::to_string(&t).unwrap().contains("\"tls.app_data\""));
}

// ---------------------------------------------------------------- round trips

fn encodings() -> impl Strategy<Value = (bool, TextEncoding)> {
    prop_oneof![
        Just((false, TextEncoding::Utf8)),
        Just((true, TextEncoding::Utf8)),
        Just((true, TextEncoding::Utf16Be)),
        Just((true, TextEncoding::Latin1)),
    ]
}

fn compressions() -> impl Strategy<Value = Compression> {
    prop_oneof![Just(Compression::None), Just(Compression::Deflate), Just(Compression::Gzip)]
}

/// Units the configuration can carry: any bytes for binary data and UTF-8, any text for UTF-16,
/// Latin-1 text for ISO-8859-1.
fn units(enc: TextEncoding, text: bool) -> BoxedStrategy<Vec<Vec<u8>>> {
    let one: BoxedStrategy<Vec<u8>> = match (text, enc) {
        (false, _) | (true, TextEncoding::Utf8) => prop::collection::vec(any::<u8>(), 0..300).boxed(),
        (true, TextEncoding::Utf16Be) => any::<String>().prop_map(String::into_bytes).boxed(),
        (true, TextEncoding::Latin1) => prop::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| b.into_iter().map(char::from).collect::<String>().into_bytes())
            .boxed(),
    };
    prop::collection::vec(one, 1..4).boxed()
}

fn case() -> impl Strategy<Value = (PresentationConfig, Vec<Vec<u8>>, Vec<usize>)> {
    (encodings(), compressions(), any::<bool>()).prop_flat_map(|((text, enc), c, key)| {
        (Just(config(text, enc, c, key)), units(enc, text), prop::collection::vec(0usize..2000, 0..8))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Every encoding × compression × encryption: what goes down comes back up, unit after
    /// unit, with the byte stream cut at arbitrary points.
    #[test]
    fn round_trip_split_anywhere((cfg, units, cuts) in case()) {
        let (mut tx, mut rx) = pair(&cfg);
        let mut wire = Vec::new();
        for u in &units {
            wire.extend(down(&mut tx, u).unwrap().0);
        }
        let mut cx = Context::default();
        let got = up_pieces(&mut rx, &wire, &cuts, &mut cx).unwrap();
        prop_assert_eq!(got, units.concat());
        prop_assert!(!rx.holding());
        prop_assert!(cx.trace.all_checks_ok());
        prop_assert!(cx.trace.records.iter().all(|r| r.layer == L6 && r.direction == Direction::Up));
    }

    /// Arbitrary bytes going up never panic, in any configuration, whole or in pieces.
    #[test]
    fn arbitrary_bytes_never_panic(
        (text, enc) in encodings(), c in compressions(), key in any::<bool>(),
        bytes in prop::collection::vec(any::<u8>(), 0..600), cuts in prop::collection::vec(0usize..600, 0..4),
    ) {
        let (_, mut rx) = pair(&config(text, enc, c, key));
        let mut cx = Context::default();
        let _ = up_pieces(&mut rx, &bytes, &cuts, &mut cx);
    }

    /// Damaged gzip or deflate streams (one byte changed) never panic and never pass unnoticed
    /// as the wrong data with a good CRC.
    #[test]
    fn damaged_streams_never_panic(data in prop::collection::vec(any::<u8>(), 0..200), at in any::<prop::sample::Index>(), x in 1u8..) {
        for c in [Compression::Deflate, Compression::Gzip] {
            let mut z = compress(&data, c).unwrap();
            let i = at.index(z.len());
            z[i] ^= x;
            if let Ok(out) = decompress(&z, c) {
                if c == Compression::Gzip && i < z.len() - 4 && i >= 10 {
                    prop_assert_eq!(out, data.clone(), "gzip's CRC-32 lets only the same data through");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- through a whole exchange

fn exchange(encoding: TextEncoding, compression: Compression, key: bool, msg: &[u8]) -> crate::stack::Exchange {
    let cfg = crate::stack::StackConfig {
        encoding,
        compression,
        key: key.then_some(crate::stack::Key(PSK)),
        ..Default::default()
    };
    crate::stack::Exchange::run(&cfg, msg).unwrap()
}

/// Text that compresses badly, with characters outside the BMP: several TCP segments.
fn long_text(n: usize) -> String {
    let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyzáéíóúçãõ €😀漢字ΩЖ".chars().collect();
    let mut x: u32 = 12345;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            alphabet[(x >> 16) as usize % alphabet.len()]
        })
        .collect()
}

#[test]
fn exchange_delivers_across_segments() {
    let msg = long_text(3000);
    for (enc, c, key) in [
        (TextEncoding::Utf16Be, Compression::Gzip, true),
        (TextEncoding::Utf8, Compression::Deflate, true),
        (TextEncoding::Utf16Be, Compression::None, false),
        (TextEncoding::Utf8, Compression::None, true),
    ] {
        let x = exchange(enc, c, key, msg.as_bytes());
        assert!(x.sent.frames.len() > 1, "{enc:?} {c:?} {key}: {} frames", x.sent.frames.len());
        assert!(x.delivered_intact(), "{enc:?} {c:?} {key}: {:?}", x.received.error);
    }
}

#[test]
fn exchange_latin1_refuses_euro() {
    let cfg = crate::stack::StackConfig { encoding: TextEncoding::Latin1, ..Default::default() };
    let e = crate::stack::Exchange::run(&cfg, "5€".as_bytes()).unwrap_err();
    assert_eq!(e.layer, Some(L6));
    assert!(e.to_string().contains("'€' (U+20AC) cannot be represented in ISO-8859-1"), "{e}");
}

/// tshark (when installed) reads the TLS records of an exchange as osilab reports them:
/// `tls.record.content_type`, `tls.record.version`, `tls.record.length`, `tls.app_data`.
#[test]
fn tshark_agrees_on_tls_fields() {
    if std::process::Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    for (enc, c, n) in
        [(TextEncoding::Utf16Be, Compression::Gzip, 9000), (TextEncoding::Utf8, Compression::None, 20_000)]
    {
        let x = exchange(enc, c, true, long_text(n).as_bytes());
        assert!(x.delivered_intact());
        tshark_check(&x);
    }
}

fn tshark_check(x: &crate::stack::Exchange) {
    let path = std::env::temp_dir().join(format!("osilab-l6-tls-{}.pcap", std::process::id()));
    let mut sink = crate::pcap::PcapSink::new(Vec::new()).unwrap();
    for f in &x.sent.frames {
        sink.write(f.signal.start, f.without_fcs()).unwrap();
    }
    std::fs::write(&path, sink.into_inner()).unwrap();
    let names = ["tls.record.content_type", "tls.record.version", "tls.record.length", "tls.app_data"];
    let mut cmd = std::process::Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(&path).args(["-d", "tcp.port==3000,tls", "-T", "fields", "-E", "separator=|"]);
    cmd.args(["-E", "occurrence=a", "-E", "aggregator=,", "-Y", "tls.record"]);
    for n in names {
        cmd.args(["-e", n]);
    }
    let out = cmd.output().unwrap();
    if std::env::var_os("OSILAB_KEEP_PCAP").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    // Ours: the receiver's records, grouped by the frame each completed in.
    let mut ours: Vec<(usize, Vec<&crate::trace::Record>)> = Vec::new();
    for r in x.received.trace.layer(L6).filter(|r| r.field("tls.record.length").is_some()) {
        let f = r.frame.unwrap();
        match ours.last_mut() {
            Some((g, v)) if *g == f => v.push(r),
            _ => ours.push((f, vec![r])),
        }
    }
    let ours: Vec<String> = ours
        .iter()
        .map(|(_, rs)| {
            names
                .iter()
                .map(|n| rs.iter().map(|r| r.field(n).unwrap().value.to_string()).collect::<Vec<_>>().join(","))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert!(!ours.is_empty());
    assert_eq!(theirs, ours);
}
