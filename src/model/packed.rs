//! Objects' JSON text, held LZ4-compressed against a sample of their own kind: live
//! objects in the watch cache, rendered manifests and desired objects.
//!
//! Objects of one kind repeat each other almost entirely: the keys, the labels, the
//! container spec, the status conditions. Compressed alone, a Pod's text as the cache holds
//! it loses only a third (LZ4: 1,753 → 1,166 bytes); compressed against another Pod as a
//! dictionary, only what differs is left (names, UIDs, timestamps: 221 bytes). With 50,000
//! live objects the cache's text went from about 65 MB to about 14 (BENCHMARKS.md note 21).
//!
//! A sample is the text of the first object of its kind, kept in memory (never written
//! anywhere) for as long as its watch, or for Git's texts the process, lives: the same
//! exposure as the object itself while it is cached, a little longer after.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The most of a sample a dictionary keeps: LZ4 reaches back 64 KiB, and a Pod or a
/// Deployment is a few KiB; huge objects (CRDs) would only cost memory per kind.
const DICTIONARY_LIMIT: usize = 16 * 1024;

/// A sample text that objects of one kind are compressed against. Cheap to clone.
#[derive(Clone)]
pub struct Dictionary(Arc<[u8]>);

/// Its size only: the sample itself may be a Secret.
impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dictionary({} bytes)", self.0.len())
    }
}

impl Dictionary {
    /// A dictionary from an object's text (its first 16 KiB, which hold its metadata).
    pub fn from_sample(text: &str) -> Self {
        let bytes = text.as_bytes();
        Dictionary(Arc::from(&bytes[..bytes.len().min(DICTIONARY_LIMIT)]))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Kinds the shelf of Git samples holds at most: beyond that (a repository of hundreds of
/// CRDs) texts are compressed without a dictionary.
const SHELF_LIMIT: usize = 512;

/// The sample for objects of `kind` read from Git (manifests and desired objects): the
/// first one packed, kept for the life of the process so equal texts stay equal blocks.
fn git_sample(kind: &str, text: &str) -> Option<Dictionary> {
    static SHELF: OnceLock<Mutex<HashMap<String, Dictionary>>> = OnceLock::new();
    let mut shelf = SHELF.get_or_init(Mutex::default).lock().ok()?;
    if let Some(d) = shelf.get(kind) {
        return Some(d.clone());
    }
    if shelf.len() >= SHELF_LIMIT {
        return None;
    }
    let d = Dictionary::from_sample(text);
    shelf.insert(kind.to_string(), d.clone());
    Some(d)
}

/// JSON text held compressed; read back whole with [`PackedText::text`].
#[derive(Clone)]
pub struct PackedText {
    /// LZ4 block of the text, against `dictionary` when there is one.
    bytes: Arc<[u8]>,
    /// Length of the text, in bytes.
    len: usize,
    dictionary: Option<Dictionary>,
}

impl PackedText {
    /// Compresses `text`, against `dictionary` when given.
    pub fn pack(text: &str, dictionary: Option<&Dictionary>) -> Self {
        let raw = text.as_bytes();
        let bytes = match dictionary {
            Some(d) => lz4_flex::block::compress_with_dict(raw, d.bytes()),
            None => lz4_flex::block::compress(raw),
        };
        PackedText {
            bytes: Arc::from(bytes),
            len: raw.len(),
            dictionary: dictionary.cloned(),
        }
    }

    /// Compresses the text of an object of `kind` read from Git against the process's
    /// sample of that kind.
    pub fn pack_from_git(kind: &str, text: &str) -> Self {
        Self::pack(text, git_sample(kind, text).as_ref())
    }

    /// The text, decompressed.
    pub fn text(&self) -> String {
        let out = match &self.dictionary {
            Some(d) => lz4_flex::block::decompress_with_dict(&self.bytes, self.len, d.bytes()),
            None => lz4_flex::block::decompress(&self.bytes, self.len),
        };
        // The block was written here from a str: it decompresses to that str. An empty
        // text keeps readers free of panics if that ever failed.
        out.ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    }

    /// Bytes held for the text (its compressed block; the dictionary is shared).
    pub fn held_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// The text it holds, as a `&str` field would print (test failures, traces).
impl std::fmt::Debug for PackedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text(), f)
    }
}

/// Packs a text without a dictionary.
impl From<&str> for PackedText {
    fn from(text: &str) -> Self {
        Self::pack(text, None)
    }
}

/// Packs a text without a dictionary.
impl From<String> for PackedText {
    fn from(text: String) -> Self {
        Self::pack(&text, None)
    }
}

/// Same text, whatever the dictionaries. Compression is deterministic, so blocks packed
/// against the same dictionary are equal exactly when their texts are: a resent object
/// is told from a changed one without unpacking either.
impl PartialEq for PackedText {
    fn eq(&self, other: &PackedText) -> bool {
        let same_dictionary = match (&self.dictionary, &other.dictionary) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a.0, &b.0),
            (None, None) => true,
            _ => false,
        };
        self.len == other.len
            && if same_dictionary {
                self.bytes == other.bytes
            } else {
                self.text() == other.text()
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str) -> String {
        format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"shop","uid":"{uid}","labels":{{"app":"web","pod-template-hash":"7d9f8c"}}}},"spec":{{"containers":[{{"name":"web","image":"registry.example.com/web:1.0","ports":[{{"containerPort":8080,"protocol":"TCP"}}]}}]}},"status":{{"phase":"Running","conditions":[{{"type":"Ready","status":"True"}}]}}}}"#
        )
    }

    #[test]
    fn text_reads_back_with_and_without_a_dictionary() {
        let dict = Dictionary::from_sample(&pod("web-0", "u0"));
        for text in [pod("web-1", "u1"), String::new(), "{}".into(), "é✓".into()] {
            assert_eq!(PackedText::pack(&text, Some(&dict)).text(), text);
            assert_eq!(PackedText::pack(&text, None).text(), text);
        }
    }

    #[test]
    fn a_dictionary_of_the_same_kind_leaves_only_what_differs() {
        let dict = Dictionary::from_sample(&pod("web-0", "u0"));
        let text = pod("web-1", "u1");
        let alone = PackedText::pack(&text, None).held_bytes();
        let against = PackedText::pack(&text, Some(&dict)).held_bytes();
        assert!(against * 4 < text.len(), "{against} of {}", text.len());
        assert!(against * 2 < alone, "{against} against {alone} alone");
    }

    #[test]
    fn equality_compares_texts_whatever_the_dictionaries() {
        let d1 = Dictionary::from_sample(&pod("web-0", "u0"));
        let d2 = Dictionary::from_sample(&pod("web-9", "u9"));
        let a = PackedText::pack(&pod("web-1", "u1"), Some(&d1));
        assert!(a == PackedText::pack(&pod("web-1", "u1"), Some(&d1)));
        assert!(a == PackedText::pack(&pod("web-1", "u1"), Some(&d2)));
        assert!(a == PackedText::pack(&pod("web-1", "u1"), None));
        assert!(a != PackedText::pack(&pod("web-2", "u2"), Some(&d1)));
        assert!(a != PackedText::pack(&pod("web-2", "u2"), None));
    }

    #[test]
    fn git_texts_of_a_kind_share_the_first_sample() {
        // A kind no other test packs, so the sample is this test's first text.
        let a = PackedText::pack_from_git("PackedTestKind", &pod("web-0", "u0"));
        let b = PackedText::pack_from_git("PackedTestKind", &pod("web-1", "u1"));
        assert_eq!(b.text(), pod("web-1", "u1"));
        assert!(b.held_bytes() * 4 < pod("web-1", "u1").len());
        assert_eq!(
            a,
            PackedText::pack_from_git("PackedTestKind", &pod("web-0", "u0"))
        );
        assert_ne!(a, b);
    }

    #[test]
    fn debug_shows_the_text_and_only_the_size_of_a_sample() {
        let dict = Dictionary::from_sample("secret sample");
        assert_eq!(format!("{dict:?}"), "Dictionary(13 bytes)");
        let packed = PackedText::pack(r#"{"a":1}"#, Some(&dict));
        assert_eq!(format!("{packed:?}"), r#""{\"a\":1}""#);
    }

    #[test]
    fn a_huge_sample_is_cut_to_the_limit() {
        let big = "x".repeat(DICTIONARY_LIMIT * 3);
        let dict = Dictionary::from_sample(&big);
        assert_eq!(dict.bytes().len(), DICTIONARY_LIMIT);
        assert_eq!(PackedText::pack(&big, Some(&dict)).text(), big);
    }
}
