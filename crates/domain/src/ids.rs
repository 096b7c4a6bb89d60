//! Opaque identifiers: a type prefix and 20 random base-36 characters (~103 bits), so IDs are
//! unguessable, URL-safe and say what they name (`partner_…`, `listing_…`).

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub const RANDOM_LEN: usize = 20;

pub fn random_token(len: usize) -> String {
    (0..len).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + RANDOM_LEN);
    id.push_str(prefix);
    id.push('_');
    id.push_str(&random_token(RANDOM_LEN));
    id
}

/// True when `s` could be an id of any kind this server or a client names (1 to 100 ASCII
/// letters, digits, `_`, `-`): what is not is "not found" (or refused) without a store read.
pub fn plausible(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// True when `s` is shaped like an ID this server could have issued for `prefix`. Lets handlers
/// answer 404 for garbage without a database round trip.
pub fn looks_like(prefix: &str, s: &str) -> bool {
    s.len() == prefix.len() + 1 + RANDOM_LEN
        && s.starts_with(prefix)
        && s.as_bytes()[prefix.len()] == b'_'
        && s[prefix.len() + 1..].bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_are_unique() {
        let a = new_id("partner");
        let b = new_id("partner");
        assert!(a.starts_with("partner_"));
        assert_eq!(a.len(), "partner_".len() + RANDOM_LEN);
        assert_ne!(a, b);
        assert!(looks_like("partner", &a));
        assert!(!looks_like("listing", &a));
        assert!(!looks_like("partner", "partner_123"));
        assert!(!looks_like("partner", &a.to_uppercase()));
    }
}
