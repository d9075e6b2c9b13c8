//! Characters no free-text tenant value may contain: those that are invisible or that change how the
//! text around them is displayed, so a pull-request diff of a tenant file could mislead its reviewer.
//!
//! The table is explicit code point ranges rather than "general category X" so that the rule does not
//! move with the Unicode version of whoever checks it: `modules/orchestra/variables.tf` carries the
//! same ranges as an RE2 class ([`hcl_class`]), and Terraform 1.0 (Go 1.16, Unicode 13) and the
//! newest release refuse exactly what this crate refuses.

/// One refused range, inclusive, with the name of its class for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedRange {
    /// First code point.
    pub first: char,
    /// Last code point (inclusive).
    pub last: char,
    /// What these characters are, in a user's words.
    pub class: &'static str,
}

const fn r(first: char, last: char, class: &'static str) -> RefusedRange {
    RefusedRange { first, last, class }
}

const CONTROL: &str = "a control character (Cc)";
const FORMAT: &str =
    "an invisible format character (Cf: bidi control, zero-width character, BOM, ...)";
const SEPARATOR: &str = "a line or paragraph separator (Zl, Zp)";
const PRIVATE: &str = "a private-use character (Co)";
const NONCHAR: &str = "a Unicode noncharacter";
const FILLER: &str = "an invisible filler character (Default_Ignorable)";

/// Every refused character, in code point order:
/// - control characters (Cc), including newlines and tabs;
/// - format characters (Cf, Unicode 15.1): bidi embeddings, overrides and isolates (U+202A-202E,
///   U+2066-2069), marks (U+200E/F, U+061C), zero-width space/joiners (U+200B-200D), word joiner and
///   invisible operators (U+2060-2064), BOM (U+FEFF), soft hyphen, tags (U+E0001, U+E0020-E007F), ...,
///   together with the unassigned code points inside those blocks that Unicode reserves as
///   default-ignorable (U+2065, U+FFF0-FFF8, U+E0000-E00FF), so a future format character is refused too;
/// - line and paragraph separators (Zl U+2028, Zp U+2029);
/// - private-use characters (Co), which render as whatever a font decides;
/// - noncharacters (U+FDD0-FDEF and the last two code points of every plane);
/// - letters and marks that render as nothing: combining grapheme joiner U+034F, Hangul fillers
///   U+115F, U+1160, U+3164, U+FFA0, Khmer inherent vowels U+17B4-17B5.
///
/// Allowed on purpose: every other letter, mark, number, symbol and space separator (Zs, e.g. the
/// no-break spaces French typography needs), variation selectors (emoji and CJK variants), and
/// code points not yet assigned (their verdict would otherwise differ between Unicode versions).
pub const REFUSED: &[RefusedRange] = &[
    r('\u{0000}', '\u{001F}', CONTROL),
    r('\u{007F}', '\u{009F}', CONTROL),
    r('\u{00AD}', '\u{00AD}', FORMAT),
    r('\u{034F}', '\u{034F}', FILLER),
    r('\u{0600}', '\u{0605}', FORMAT),
    r('\u{061C}', '\u{061C}', FORMAT),
    r('\u{06DD}', '\u{06DD}', FORMAT),
    r('\u{070F}', '\u{070F}', FORMAT),
    r('\u{0890}', '\u{0891}', FORMAT),
    r('\u{08E2}', '\u{08E2}', FORMAT),
    r('\u{115F}', '\u{1160}', FILLER),
    r('\u{17B4}', '\u{17B5}', FILLER),
    r('\u{180E}', '\u{180E}', FORMAT),
    r('\u{200B}', '\u{200F}', FORMAT),
    r('\u{2028}', '\u{2028}', SEPARATOR),
    r('\u{2029}', '\u{2029}', SEPARATOR),
    r('\u{202A}', '\u{202E}', FORMAT),
    r('\u{2060}', '\u{206F}', FORMAT),
    r('\u{3164}', '\u{3164}', FILLER),
    r('\u{E000}', '\u{F8FF}', PRIVATE),
    r('\u{FDD0}', '\u{FDEF}', NONCHAR),
    r('\u{FEFF}', '\u{FEFF}', FORMAT),
    r('\u{FFA0}', '\u{FFA0}', FILLER),
    r('\u{FFF0}', '\u{FFFB}', FORMAT),
    r('\u{FFFE}', '\u{FFFF}', NONCHAR),
    r('\u{110BD}', '\u{110BD}', FORMAT),
    r('\u{110CD}', '\u{110CD}', FORMAT),
    r('\u{13430}', '\u{1343F}', FORMAT),
    r('\u{1BCA0}', '\u{1BCA3}', FORMAT),
    r('\u{1D173}', '\u{1D17A}', FORMAT),
    r('\u{1FFFE}', '\u{1FFFF}', NONCHAR),
    r('\u{2FFFE}', '\u{2FFFF}', NONCHAR),
    r('\u{3FFFE}', '\u{3FFFF}', NONCHAR),
    r('\u{4FFFE}', '\u{4FFFF}', NONCHAR),
    r('\u{5FFFE}', '\u{5FFFF}', NONCHAR),
    r('\u{6FFFE}', '\u{6FFFF}', NONCHAR),
    r('\u{7FFFE}', '\u{7FFFF}', NONCHAR),
    r('\u{8FFFE}', '\u{8FFFF}', NONCHAR),
    r('\u{9FFFE}', '\u{9FFFF}', NONCHAR),
    r('\u{AFFFE}', '\u{AFFFF}', NONCHAR),
    r('\u{BFFFE}', '\u{BFFFF}', NONCHAR),
    r('\u{CFFFE}', '\u{CFFFF}', NONCHAR),
    r('\u{DFFFE}', '\u{DFFFF}', NONCHAR),
    r('\u{E0000}', '\u{E00FF}', FORMAT),
    r('\u{EFFFE}', '\u{EFFFF}', NONCHAR),
    r('\u{F0000}', '\u{FFFFD}', PRIVATE),
    r('\u{FFFFE}', '\u{FFFFF}', NONCHAR),
    r('\u{100000}', '\u{10FFFD}', PRIVATE),
    r('\u{10FFFE}', '\u{10FFFF}', NONCHAR),
];

/// White space (Unicode `White_Space`, what `char::is_whitespace` and Go's `unicode.IsSpace`
/// test), as ranges for the HCL pattern of `contact_email`.
pub const WHITE_SPACE: &[(char, char)] = &[
    ('\u{0009}', '\u{000D}'),
    ('\u{0020}', '\u{0020}'),
    ('\u{0085}', '\u{0085}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
];

/// The class of `c` when no free-text value may contain it.
pub fn refused_class(c: char) -> Option<&'static str> {
    REFUSED
        .iter()
        .find(|range| range.first <= c && c <= range.last)
        .map(|range| range.class)
}

/// The first refused character of `text`, with its character position (0-based) and class.
pub(crate) fn first_refused(text: &str) -> Option<(usize, char, &'static str)> {
    text.chars()
        .enumerate()
        .find_map(|(at, c)| refused_class(c).map(|class| (at, c, class)))
}

/// The body of an RE2 character class (without brackets) matching every [`REFUSED`] character,
/// as written inside `[...]` in `modules/orchestra/variables.tf`: `\x{0}-\x{1F}\x{7F}-\x{9F}...`.
pub fn hcl_class() -> String {
    ranges_class(REFUSED.iter().map(|range| (range.first, range.last)))
}

/// The body of an RE2 character class matching [`WHITE_SPACE`].
pub fn hcl_white_space_class() -> String {
    ranges_class(WHITE_SPACE.iter().copied())
}

fn ranges_class(ranges: impl Iterator<Item = (char, char)>) -> String {
    ranges
        .map(|(first, last)| {
            if first == last {
                format!("\\x{{{:X}}}", first as u32)
            } else {
                format!("\\x{{{:X}}}-\\x{{{:X}}}", first as u32, last as u32)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_disjoint() {
        for pair in REFUSED.windows(2) {
            assert!(pair[0].first <= pair[0].last, "{:?}", pair[0]);
            assert!(
                pair[0].last < pair[1].first,
                "{:?} overlaps {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn white_space_table_is_exactly_unicode_white_space() {
        let in_table = |c: char| WHITE_SPACE.iter().any(|&(a, b)| a <= c && c <= b);
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(in_table(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn refuses_every_control_and_the_named_classes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if c.is_control() {
                assert!(refused_class(c).is_some(), "U+{:04X}", c as u32);
            }
        }
        for c in [
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{E000}',
            '\u{FFFF}',
            '\u{3164}',
            '\u{10FFFF}',
            '\u{FDD0}',
        ] {
            assert!(refused_class(c).is_some(), "U+{:04X}", c as u32);
        }
        for c in [
            'a', 'é', ' ', '\u{00A0}', '\u{202F}', '\u{FE0F}', '\u{0301}', '鈴', '🎻',
        ] {
            assert_eq!(refused_class(c), None, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn hcl_class_lists_ranges_in_re2_syntax() {
        let class = hcl_class();
        assert!(
            class.starts_with("\\x{0}-\\x{1F}\\x{7F}-\\x{9F}\\x{AD}"),
            "{class}"
        );
        assert!(class.contains("\\x{202A}-\\x{202E}"), "{class}");
    }
}
