//! How rekon shows a revision: a commit SHA cut short, as `git log --oneline` does.

/// The first seven characters of a revision (a commit SHA), or all of it when shorter.
pub fn short_sha(revision: &str) -> &str {
    abbreviate_revision(revision, 7)
}

/// The first `len` characters of a revision, or all of it when shorter; for the places that
/// show more of a hash than [`short_sha`] (the Flux graph's plain text shows 12).
pub fn abbreviate_revision(revision: &str, len: usize) -> &str {
    match revision.char_indices().nth(len) {
        Some((end, _)) => &revision[..end],
        None => revision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sha_is_cut_to_seven_characters() {
        assert_eq!(short_sha("0123456789abcdef"), "0123456");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(short_sha(""), "");
        assert_eq!(short_sha("ééééééééé"), "ééééééé");
        assert_eq!(abbreviate_revision("0123456789abcdef", 12), "0123456789ab");
    }
}
