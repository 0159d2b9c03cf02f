//! Identifiers the services pass each other: UUIDs in their canonical
//! lowercase text form, as PostgreSQL's `uuid::text` writes them and the
//! access token's `sub` and `sid` carry them.

use std::fmt;

fn canonical_uuid(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        })
}

fn uuid_bytes(text: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let digits = text.bytes().filter(|b| *b != b'-').map(|b| match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'a' + 10,
    });
    for (i, digit) in digits.enumerate() {
        out[i / 2] |= digit << if i % 2 == 0 { 4 } else { 0 };
    }
    out
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Option<Self> {
                canonical_uuid(raw).then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The sixteen bytes of the UUID.
            pub fn bytes(&self) -> [u8; 16] {
                uuid_bytes(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// A Vottery user's id.
    UserId
);
uuid_id!(
    /// A session's id (the access token's `sid`).
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_uuids() {
        assert!(UserId::parse("6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11").is_some());
        assert!(SessionId::parse("6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11").is_some());
        for bad in [
            "",
            "6F1C1F0E-9D43-4A8E-8F62-2B8E7F0C5A11",
            "6f1c1f0e9d434a8e8f622b8e7f0c5a11",
            "6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a1g",
            "6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11 ",
        ] {
            assert!(UserId::parse(bad).is_none(), "{bad:?}");
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_user_id_gives_its_sixteen_bytes() {
        let id = UserId::parse("6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11").map(|id| id.bytes());
        assert_eq!(
            id,
            Some([0x6f, 0x1c, 0x1f, 0x0e, 0x9d, 0x43, 0x4a, 0x8e, 0x8f, 0x62, 0x2b, 0x8e, 0x7f, 0x0c, 0x5a, 0x11])
        );
    }
}
