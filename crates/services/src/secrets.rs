//! Webhook signing secrets at rest: ChaCha20-Poly1305 under keys from configuration.
//!
//! A stored secret is `enc1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id is derived
//! from the key (a hash prefix), so keys need no names and a ciphertext says which key opens it.
//! The webhook's id is the associated data: a ciphertext copied onto another webhook's row does
//! not open. The first key encrypts; every key decrypts, so a key is rotated by putting a new
//! one first, re-encrypting (`partnerd secrets rotate`), then dropping the old one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

const PREFIX: &str = "enc1";
const NONCE_LEN: usize = 12;
/// Keys are 32 random bytes, written as base64.
pub const KEY_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the stored secret was encrypted with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("the stored secret is not an encrypted secret, or it was altered")]
    Unreadable,
}

struct Key {
    id: String,
    cipher: ChaCha20Poly1305,
}

/// The configured keys, the encrypting one first. Never printed.
#[derive(Clone)]
pub struct SecretKeys {
    keys: Arc<Vec<Key>>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys").field("ids", &self.ids()).finish()
    }
}

/// A key's id: the first 8 hex digits of a hash of it (it reveals nothing usable about the key).
fn key_id(key: &[u8; KEY_LEN]) -> String {
    let digest = Sha256::new().chain_update(b"partnerd webhook secret key\0").chain_update(key).finalize();
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

impl SecretKeys {
    /// `keys[0]` encrypts; all decrypt. Refuses an empty list and repeated keys.
    pub fn new(keys: &[[u8; KEY_LEN]]) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one secret key is needed".into());
        }
        let mut out: Vec<Key> = Vec::with_capacity(keys.len());
        for k in keys {
            let id = key_id(k);
            if out.iter().any(|o| o.id == id) {
                return Err(format!("secret key {id} is configured twice"));
            }
            let cipher = ChaCha20Poly1305::new_from_slice(k).map_err(|_| "a secret key must be 32 bytes".to_owned())?;
            out.push(Key { id, cipher });
        }
        Ok(Self { keys: Arc::new(out) })
    }

    /// Keys written as base64 (standard alphabet, padded or not), each 32 bytes.
    pub fn from_base64(texts: &[&str]) -> Result<Self, String> {
        let keys = texts.iter().map(|t| parse_key(t)).collect::<Result<Vec<_>, _>>()?;
        Self::new(&keys)
    }

    /// One key for this process, made at random on first use: for tests and embedders that
    /// configure none. `partnerd serve` always configures keys.
    pub fn for_this_process() -> Self {
        static KEYS: OnceLock<SecretKeys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let mut key = [0u8; KEY_LEN];
            rand::fill(&mut key);
            Self::new(&[key]).unwrap_or_else(|_| unreachable!("one key is a valid list"))
        })
        .clone()
    }

    /// The ids of the configured keys, the encrypting one first.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn encrypt(&self, webhook_id: &str, secret: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: secret.as_bytes(), aad: webhook_id.as_bytes() })
            .unwrap_or_else(|_| unreachable!("ChaCha20-Poly1305 encrypts any message this short"));
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        format!("{PREFIX}:{}:{}", key.id, B64.encode(blob))
    }

    pub fn decrypt(&self, webhook_id: &str, stored: &str) -> Result<String, SecretError> {
        let (id, blob) = split(stored).ok_or(SecretError::Unreadable)?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let blob = B64.decode(blob).map_err(|_| SecretError::Unreadable)?;
        if blob.len() <= NONCE_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Unreadable)?;
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: webhook_id.as_bytes() })
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Unreadable)
    }

    /// Whether `stored` is encrypted under the current key (nothing to re-encrypt).
    pub fn is_current(&self, stored: &str) -> bool {
        split(stored).is_some_and(|(id, _)| id == self.current_id())
    }
}

/// `(key id, base64 blob)` of a stored secret.
fn split(stored: &str) -> Option<(&str, &str)> {
    let rest = stored.strip_prefix(PREFIX)?.strip_prefix(':')?;
    rest.split_once(':')
}

/// A base64 key of 32 bytes.
pub fn parse_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let text = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| "a secret key must be base64 (for example the output of `openssl rand -base64 32`)".to_owned())?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("a secret key must be 32 bytes, not {}", b.len()))
}

/// A new random key, as base64.
pub fn generate_key() -> String {
    let mut key = [0u8; KEY_LEN];
    rand::fill(&mut key);
    B64.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> [u8; KEY_LEN] {
        [n; KEY_LEN]
    }

    #[test]
    fn secrets_round_trip_and_do_not_show() {
        let k = SecretKeys::new(&[keys(1)]).unwrap();
        let stored = k.encrypt("webhook_a", "whsec_plain_text_secret");
        assert!(!stored.contains("whsec"), "{stored}");
        assert_ne!(stored, k.encrypt("webhook_a", "whsec_plain_text_secret"), "a fresh nonce each time");
        assert_eq!(k.decrypt("webhook_a", &stored).unwrap(), "whsec_plain_text_secret");
        assert_eq!(k.decrypt("webhook_b", &stored), Err(SecretError::Unreadable), "bound to its webhook");
        assert!(k.is_current(&stored));
    }

    #[test]
    fn old_keys_decrypt_and_unknown_keys_are_named() {
        let old = SecretKeys::new(&[keys(1)]).unwrap();
        let stored = old.encrypt("w", "whsec_x");
        let both = SecretKeys::new(&[keys(2), keys(1)]).unwrap();
        assert_eq!(both.decrypt("w", &stored).unwrap(), "whsec_x");
        assert!(!both.is_current(&stored));
        let new = SecretKeys::new(&[keys(2)]).unwrap();
        assert_eq!(new.decrypt("w", &stored), Err(SecretError::UnknownKey(old.current_id().to_owned())));
    }

    #[test]
    fn tampering_and_bad_keys_are_refused() {
        let k = SecretKeys::new(&[keys(1)]).unwrap();
        let mut stored = k.encrypt("w", "whsec_x");
        stored.pop();
        stored.push(if stored.ends_with('A') { 'B' } else { 'A' });
        assert!(k.decrypt("w", &stored).is_err());
        assert_eq!(k.decrypt("w", "whsec_plain"), Err(SecretError::Unreadable));
        assert!(parse_key("not base64!").is_err());
        assert!(parse_key(&B64.encode([0u8; 16])).unwrap_err().contains("32 bytes"));
        assert_eq!(parse_key(&generate_key()).map(|k| k.len()), Ok(KEY_LEN));
        assert!(SecretKeys::new(&[keys(1), keys(1)]).is_err());
        assert!(SecretKeys::new(&[]).is_err());
    }
}
