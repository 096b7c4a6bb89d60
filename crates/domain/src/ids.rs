//! Opaque identifiers: a type prefix and 20 base-36 characters, so IDs are URL-safe and say
//! what they name (`partner_…`, `listing_…`). The 20 are the creation millisecond (9 characters,
//! enough until the year 5188) and 11 random ones (~57 bits: unguessable, and unique however
//! many are made in one millisecond).
//!
//! Time first, so a new id sorts after the ids made before it: every index keyed by an id (the
//! primary keys, the event log's `id` and `subject_id`) takes a new row at its end, in a page a
//! batch of writes shares, instead of in a random page of its own. At a million opportunities,
//! random ids made each durable create dirty about three pages no other write shared (the
//! opportunity's id, its event's id, its event's subject), and writing those pages was most of
//! SQLite's commit. Nothing reads meaning into an id's order: lists order by their own
//! timestamps, and ids break ties only.

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub const RANDOM_LEN: usize = 20;

pub fn random_token(len: usize) -> String {
    (0..len).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

/// The characters of an id that are its creation millisecond.
const TIME_LEN: usize = 9;

pub fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    id_at(prefix, millis)
}

/// An id made at `millis` since the epoch (wall-clock time: an id's order need only be roughly
/// that of its creation, and a clock stepping back merely files a few ids out of order).
fn id_at(prefix: &str, millis: u128) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + RANDOM_LEN);
    id.push_str(prefix);
    id.push('_');
    let mut time = [b'0'; TIME_LEN];
    let mut rest = millis;
    for c in time.iter_mut().rev() {
        // A remainder of 36 is below 36: the index is in range, and the cast loses nothing.
        *c = ALPHABET[usize::try_from(rest % 36).unwrap_or_default()];
        rest /= 36;
    }
    id.extend(time.iter().map(|&b| b as char));
    id.push_str(&random_token(RANDOM_LEN - TIME_LEN));
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

    #[test]
    fn ids_sort_by_their_creation_millisecond() {
        let at = |ms| id_at("opp", ms);
        let (a, b, c) = (at(1_764_000_000_000), at(1_764_000_000_001), at(1_764_000_060_000));
        assert!(a < b && b < c, "{a} {b} {c}");
        // A millisecond's ids differ in their random part.
        assert_ne!(at(5), at(5));
        assert!(looks_like("opp", &a));
        assert_eq!(&at(0)["opp_".len().."opp_".len() + TIME_LEN], "000000000");
        // The largest millisecond nine characters hold: the year 5188.
        assert_eq!(&at(36u128.pow(9) - 1)["opp_".len().."opp_".len() + TIME_LEN], "zzzzzzzzz");
        assert!(looks_like("opp", &at(36u128.pow(9) - 1)));
        // Today's ids are ahead of those made a second ago.
        let before = id_at(
            "opp",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 1_000,
        );
        assert!(new_id("opp") > before);
    }
}
