//! CRC32C (Castagnoli, reflected polynomial `0x82F63B78`), table-driven, slicing by 8.
//!
//! Every checksum stored on disk is *masked* ([`mask`]): a CRC computed over bytes that
//! themselves contain CRCs is weak (LevelDB's observation), and a masked CRC of all-zero data
//! is not zero, so a zero-filled region never carries a valid checksum.

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82f6_3b78;

/// The constant added by [`mask`].
const MASK_DELTA: u32 = 0xa282_ead8;

/// Eight 256-entry tables: `TABLES[0]` is the classic byte-at-a-time table, `TABLES[k][b]` the
/// CRC of byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 8] = make_tables();

const fn make_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
}

/// The CRC32C of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    extend(0, data)
}

/// The CRC32C of the concatenation of the bytes `crc` was computed over and `data`.
pub fn extend(crc: u32, data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut crc = !crc;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
    }
    !crc
}

/// The stored form of a CRC: rotated right by 15 bits plus a constant.
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// The CRC a masked value was made from (the inverse of [`mask`]).
pub fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitwise definition, to check the tables against.
    fn bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn known_vectors() {
        // RFC 3720 (iSCSI), appendix B.4, and the common check value.
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(b"123456789"), 0xe306_9283);
        assert_eq!(checksum(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(checksum(&[0xffu8; 32]), 0x62a8_ab43);
        let ascending: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(checksum(&ascending), 0x46dd_794e);
        let descending: [u8; 32] = core::array::from_fn(|i| 31 - i as u8);
        assert_eq!(checksum(&descending), 0x113f_db5c);
        let iscsi_read: [u8; 48] = [
            0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14,
            0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(checksum(&iscsi_read), 0xd996_3a56);
    }

    #[test]
    fn mask_round_trip() {
        for crc in [0, 1, 0xe306_9283, u32::MAX] {
            assert_ne!(mask(crc), crc);
            assert_eq!(unmask(mask(crc)), crc);
        }
        assert_ne!(mask(checksum(&[0u8; 16])), 0);
    }

    proptest::proptest! {
        #[test]
        fn slicing_matches_bitwise_and_extends(data: alloc::vec::Vec<u8>, split in 0usize..1000) {
            let split = split.min(data.len());
            proptest::prop_assert_eq!(checksum(&data), bitwise(&data));
            proptest::prop_assert_eq!(extend(checksum(&data[..split]), &data[split..]), checksum(&data));
        }
    }
}
