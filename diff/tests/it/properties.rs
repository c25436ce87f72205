//! Properties that must hold for any input: no panics, and the rendered
//! view never carries trailing whitespace, carriage returns or escapes.

use lua_diff::{LineTag, Style, compute, preview, render, render_block, unified};
use proptest::prelude::*;

/// Text made of lines drawn from a small alphabet with the awkward
/// characters (whitespace kinds, CR, ESC, bidi, emoji) so that diffs share
/// lines often enough to produce context, pairs and hunks.
fn value() -> impl Strategy<Value = String> {
    let line = prop::collection::vec(
        prop::sample::select(vec![
            "a", "b", " ", "  ", "\t", "\r", "\u{1b}", "\u{202e}", "é", "👋", "\u{a0}", "x y",
        ]),
        0..6,
    )
    .prop_map(|parts| parts.concat());
    let ending = prop::sample::select(vec!["\n", "\r\n", ""]);
    prop::collection::vec((line, ending), 0..12).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(l, e)| format!("{l}{e}"))
            .collect::<String>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn rendering_is_clean(server in value(), local in value()) {
        for color in [false, true] {
            let out = render("persona", &server, &local, Style { color });
            prop_assert!(!out.contains('\r'));
            for line in out.lines() {
                prop_assert_eq!(line.trim_end(), line);
            }
            if !color {
                prop_assert!(!out.contains('\x1b'), "escape without colour");
            }
            // Line endings are never shown as changed lines, and a real
            // difference is never rendered as none.
            prop_assert!(!out.contains('⏎'));
            prop_assert_eq!(out.contains("(no differences)"), server == local);
        }
    }

    #[test]
    fn drift_is_consistent(server in value(), local in value()) {
        let drift = compute(&server, &local);
        prop_assert_eq!(drift.is_empty(), server == local);
        let lines = drift.hunks().iter().flat_map(|h| h.lines());
        let (mut added, mut removed) = (0, 0);
        for line in lines {
            match line.tag() {
                LineTag::Insert => added += 1,
                LineTag::Delete => removed += 1,
                LineTag::Equal => {}
            }
            if !line.segments().is_empty() {
                let joined: String = line.segments().iter().map(|s| s.text()).collect();
                prop_assert_eq!(joined, line.text());
            }
        }
        prop_assert_eq!((added, removed), (drift.added(), drift.removed()));
        let block = render_block("p", &drift, Style { color: false });
        prop_assert!(block.ends_with('\n'));
        prop_assert_eq!(unified(&server, &local, "a", "b").is_empty(), server == local);
    }

    #[test]
    fn preview_is_bounded(value in value(), max in 0usize..12) {
        let p = preview(&value, max);
        prop_assert!(p.chars().count() <= max);
        prop_assert!(!p.contains(['\n', '\r', '\x1b']), "raw control in preview");
    }
}
