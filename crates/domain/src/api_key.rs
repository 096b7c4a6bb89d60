//! API key tokens: `pdk_<key id>_<secret>`.
//!
//! The key id (public, the database primary key after `key_`) finds the row; the secret is
//! stored only as its SHA-256 digest and compared in constant time. Secrets carry ~206 bits of
//! entropy, so a fast hash is the right tool (no password stretching needed).

use crate::ids::{RANDOM_LEN, random_token};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const TOKEN_PREFIX: &str = "pdk_";
const SECRET_LEN: usize = 40;
pub const KEY_ID_PREFIX: &str = "key";

pub type SecretHash = [u8; 32];

/// A freshly generated key: the token is shown once, only `key_id` and `secret_hash` are kept.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub key_id: String,
    pub token: String,
    pub secret_hash: SecretHash,
    /// What lists may show to recognise the key: `pdk_<id>_…`.
    pub display_prefix: String,
}

pub fn generate() -> GeneratedKey {
    let id_part = random_token(RANDOM_LEN);
    let secret = random_token(SECRET_LEN);
    GeneratedKey {
        key_id: format!("{KEY_ID_PREFIX}_{id_part}"),
        token: format!("{TOKEN_PREFIX}{id_part}_{secret}"),
        secret_hash: hash_secret(&secret),
        display_prefix: format!("{TOKEN_PREFIX}{id_part}_…"),
    }
}

/// A presented token split into the key id to look up and the secret to check.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub key_id: String,
    pub secret: &'a str,
}

/// Parses a presented token; `None` when it cannot be one of ours (no lookup needed).
pub fn parse(token: &str) -> Option<PresentedKey<'_>> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id_part, secret) = rest.split_once('_')?;
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if id_part.len() != RANDOM_LEN || secret.len() != SECRET_LEN || !alnum(id_part) || !alnum(secret) {
        return None;
    }
    Some(PresentedKey { key_id: format!("{KEY_ID_PREFIX}_{id_part}"), secret })
}

pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Constant-time check of a presented secret against the stored digest.
pub fn verify(secret: &str, stored: &[u8]) -> bool {
    let presented = hash_secret(secret);
    stored.len() == presented.len() && bool::from(presented.ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_to_their_key_and_verify() {
        let k = generate();
        let p = parse(&k.token).expect("own token parses");
        assert_eq!(p.key_id, k.key_id);
        assert!(verify(p.secret, &k.secret_hash));
        assert!(k.display_prefix.starts_with(&k.token[..24]));
        assert!(!k.display_prefix.contains(p.secret));
    }

    #[test]
    fn a_wrong_secret_does_not_verify() {
        let k = generate();
        let other = generate();
        let p = parse(&other.token).unwrap();
        assert!(!verify(p.secret, &k.secret_hash));
        assert!(!verify(p.secret, &k.secret_hash[..31]));
    }

    #[test]
    fn malformed_tokens_are_refused_without_lookup() {
        let k = generate();
        for bad in [
            "",
            "Bearer x",
            &k.token[4..],
            &k.token[..k.token.len() - 1],
            &format!("{}A", &k.token[..k.token.len() - 1]),
            &k.token.replacen('_', "-", 2),
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
