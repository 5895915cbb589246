//! A minimal PNG encoder for small 8-bit greyscale images, and the base64 encoding that puts one in a
//! `data:` URI.
//!
//! A PNG file (W3C, "Portable Network Graphics (PNG) Specification", 2nd ed., 2003) is an 8-byte signature
//! followed by chunks, each `length (4 bytes, big-endian) · type (4 ASCII bytes) · data · CRC-32 of type and
//! data`. This encoder writes three: `IHDR` (width, height, bit depth 8, colour type 0 = greyscale),
//! one `IDAT` holding the zlib stream of the scanlines (each prefixed with filter type 0, "None"), and
//! the empty `IEND`.
//!
//! The zlib stream (RFC 1950) is the two header bytes `78 01`, the data as DEFLATE "stored" blocks
//! (RFC 1951 section 3.2.4: a header byte whose low bit marks the last block, then `LEN` and its one's
//! complement `NLEN`, little-endian, then `LEN` raw bytes, at most 65 535 per block), and the Adler-32
//! checksum of the uncompressed data, big-endian. Storing instead of compressing keeps the encoder a few
//! dozen lines; the decision-region masks it is made for are 32×32 pixels (about 1 KB each).
//!
//! CRC-32 is the reflected polynomial `0xEDB88320` of ISO 3309 / ITU-T V.42 (PNG specification, annex D);
//! Adler-32 is `B·65536 + A` with `A = 1 + Σ bytes` and `B = Σ A` after each byte, both mod 65 521
//! (RFC 1950 section 8). Base64 is the standard alphabet with `=` padding (RFC 4648 section 4).

/// The CRC-32 lookup table, built at compile time: entry `n` is the CRC of the single byte `n`.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 (ISO 3309) of the concatenation of `parts`.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xffff_ffff
}

/// Adler-32 (RFC 1950) of `data`.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest number of bytes after which `b` cannot overflow a u32 before the reduction
    // (the bound zlib itself uses), so the modulo runs once per block instead of once per byte.
    for block in data.chunks(5552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Appends one chunk: length, type, data and the CRC of type and data.
fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("a chunk of these small images is far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// The PNG file of a `width`×`height` 8-bit greyscale image whose `pixels` are given row by row, top row
/// first (`pixels.len() == width · height`).
///
/// # Panics
/// If `pixels` has the wrong length or a side is zero or above 2³¹ - 1 (PNG's limit).
pub fn greyscale_png(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    assert!(width > 0 && height > 0, "a PNG needs at least one pixel");
    assert_eq!(pixels.len(), width * height, "one byte per pixel");
    let (w, h) = (
        u32::try_from(width).expect("width fits PNG's 31 bits"),
        u32::try_from(height).expect("height fits PNG's 31 bits"),
    );
    assert!(w < 1 << 31 && h < 1 << 31, "PNG sides are below 2^31");

    // Scanlines: filter type 0 ("None") then the row's bytes.
    let mut raw = Vec::with_capacity(height * (width + 1));
    for row in pixels.chunks_exact(width) {
        raw.push(0);
        raw.extend_from_slice(row);
    }

    // zlib header: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (no dictionary, fastest level; 0x7801 is a
    // multiple of 31 as RFC 1950 requires), then stored blocks and the Adler-32 of the raw bytes.
    let blocks = raw.len().div_ceil(65_535).max(1);
    let mut zlib = Vec::with_capacity(raw.len() + 5 * blocks + 6);
    zlib.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = raw.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        zlib.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = u16::try_from(block.len()).expect("blocks are at most 65 535 bytes");
        zlib.push(u8::from(last));
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut png = Vec::with_capacity(zlib.len() + 64);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = [0u8; 13];
    ihdr[..4].copy_from_slice(&w.to_be_bytes());
    ihdr[4..8].copy_from_slice(&h.to_be_bytes());
    // Bit depth 8, colour type 0 (greyscale), compression 0, filter method 0, no interlace.
    ihdr[8..].copy_from_slice(&[8, 0, 0, 0, 0]);
    push_chunk(&mut png, b"IHDR", &ihdr);
    push_chunk(&mut png, b"IDAT", &zlib);
    push_chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends the base64 encoding of `bytes` (RFC 4648, standard alphabet, `=` padding) to `out`.
pub fn push_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            // A group of k bytes yields k + 1 significant characters; the rest is padding.
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// 64-bit FNV-1a hash (Fowler, Noll & Vo), used to name a mask after its content.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_their_published_check_values() {
        // CRC-32 of "123456789" is 0xCBF43926, the check value in the catalogue of parametrised CRCs
        // (Williams, "A painless guide to CRC error detection algorithms", 1993; also zlib.crc32).
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        // Adler-32: python3 -c "import zlib; print(hex(zlib.adler32(b'Wikipedia')))" -> 0x11e60398.
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
        // A long run exercises the deferred modulo:
        //   python3 -c "import zlib; print(hex(zlib.adler32(b'\xff' * 100000)))"  -> 0x149a302c
        assert_eq!(adler32(&[0xff; 100_000]), 0x149a_302c);
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the reference test vectors of the FNV authors).
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        // RFC 4648 section 10.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            push_base64(&mut s, input.as_bytes());
            assert_eq!(s, expected, "{input:?}");
        }
    }

    /// Reads a PNG back: checks the signature and every chunk's CRC, then returns the IHDR fields and the
    /// pixels recovered from the stored zlib blocks (checking Adler-32 and the filter bytes).
    fn decode(png: &[u8]) -> ((u32, u32, u8, u8), Vec<u8>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut rest = &png[8..];
        let (mut header, mut idat, mut ended) = (None, Vec::new(), false);
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let kind = &rest[4..8];
            let data = &rest[8..8 + len];
            let crc = u32::from_be_bytes(rest[8 + len..12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&[kind, data]), "CRC of {kind:?}");
            match kind {
                b"IHDR" => {
                    let w = u32::from_be_bytes(data[..4].try_into().unwrap());
                    let h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                    header = Some((w, h, data[8], data[9]));
                }
                b"IDAT" => idat.extend_from_slice(data),
                b"IEND" => ended = true,
                other => panic!("unexpected chunk {other:?}"),
            }
            rest = &rest[12 + len..];
        }
        assert!(ended, "no IEND");
        let header = header.expect("no IHDR");
        assert_eq!(&idat[..2], &[0x78, 0x01]);
        assert_eq!(
            u16::from_be_bytes([idat[0], idat[1]]) % 31,
            0,
            "zlib FCHECK"
        );
        let mut pos = 2;
        let mut raw = Vec::new();
        loop {
            let last = idat[pos] & 1 == 1;
            assert_eq!(idat[pos] >> 1, 0, "stored block type");
            let len = u16::from_le_bytes([idat[pos + 1], idat[pos + 2]]);
            let nlen = u16::from_le_bytes([idat[pos + 3], idat[pos + 4]]);
            assert_eq!(len, !nlen);
            raw.extend_from_slice(&idat[pos + 5..pos + 5 + len as usize]);
            pos += 5 + len as usize;
            if last {
                break;
            }
        }
        let adler = u32::from_be_bytes(idat[pos..pos + 4].try_into().unwrap());
        assert_eq!(adler, adler32(&raw));
        assert_eq!(pos + 4, idat.len());
        let row = header.0 as usize + 1;
        let mut pixels = Vec::new();
        for line in raw.chunks_exact(row) {
            assert_eq!(line[0], 0, "filter type None");
            pixels.extend_from_slice(&line[1..]);
        }
        (header, pixels)
    }

    #[test]
    fn png_round_trips_through_an_independent_reader() {
        for (w, h) in [(1, 1), (3, 2), (32, 32), (300, 300)] {
            let pixels: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
            let png = greyscale_png(w, h, &pixels);
            let (header, back) = decode(&png);
            assert_eq!(header, (w as u32, h as u32, 8, 0));
            assert_eq!(back, pixels, "{w}×{h}");
        }
    }

    #[test]
    fn a_two_pixel_png_matches_its_bytes() {
        // The IDAT data of a 2×1 image with pixels 0 and 255: the raw bytes are the filter byte and the two
        // pixels, so one final stored block with LEN = 3, NLEN = !3, then Adler-32 = 0x01020100. Python's
        // zlib (which inflates stored blocks and verifies the checksum) accepts exactly these bytes:
        //   import zlib
        //   zlib.decompress(bytes.fromhex("7801010300fcff0000ff01020100"))  -> b'\x00\x00\xff'
        let png = greyscale_png(2, 1, &[0, 255]);
        let idat_data = &png[8 + 25 + 8..8 + 25 + 8 + 14];
        assert_eq!(
            idat_data,
            &[0x78, 0x01, 0x01, 0x03, 0x00, 0xfc, 0xff, 0x00, 0x00, 0xff, 0x01, 0x02, 0x01, 0x00]
        );
    }
}
