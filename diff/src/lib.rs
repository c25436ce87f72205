//! `lua-diff`: the drift view between a component's server value and its
//! local value.
//!
//! The engine hands two strings to [`compute`], which returns a [`Drift`]:
//! data only (hunks of lines, each changed line paired with its counterpart
//! and split into word [`Segment`]s, plus counts of collapsed unchanged
//! lines). [`render_block`], [`render_short`] and [`render`] turn it into the
//! framed text block of the `lua sync` reference; [`unified`] gives a plain
//! unified diff for JSON reports and [`preview`] a one-line summary.
//!
//! This crate must not know about components, HTTP or the terminal: the
//! caller passes titles and values, and decides colour through [`Style`].
//! It never prints.
//!
//! # The block
//!
//! ```text
//! ============================================================
//! PERSONA DIFF
//! - Server (deployed)  + Local (code)
//! ============================================================
//!
//!   ... (12 unchanged lines) ...
//!   <persona>
//!     <identity>
//! -     Old Agent Name
//! +     New Agent Name
//!     </identity>
//!   ... (4 unchanged lines) ...
//!
//! ============================================================
//! ```
//!
//! Lines are split at `\n`, `\r\n` and a lone `\r`. Unchanged lines are
//! `  text`, removed `- text`, added `+ text`; 3 unchanged lines are kept
//! around each change and longer runs collapse to
//! `  ... (N unchanged lines) ...` (a run of a single line is shown instead,
//! since its marker would take as much room). Blank lines are kept. An empty
//! side adds `  (server value is empty)` / `  (local value is empty)`; equal
//! values give `  (no differences)` (callers normally do not render those).
//!
//! # Whitespace and special characters
//!
//! No rendered line ends in whitespace, and no raw control character (so no
//! `\r` and no terminal escape from a value) reaches the output:
//!
//! - Unchanged lines: tabs become 4 spaces; trailing whitespace is trimmed
//!   (a blank unchanged line is an empty line, without the 2-space prefix).
//! - Changed lines: trailing whitespace is made visible — space `·`, tab `→`,
//!   other whitespace (such as a no-break space) `␣`. Other tabs are 4
//!   spaces. A removed or added blank line is just `-` or `+`.
//! - A changed pair that differs only in whitespace (the texts are equal
//!   once all whitespace is removed) also shows the whitespace that differs
//!   that way (the changed words; all of the line's whitespace when there is
//!   no word highlight), so `    Be kind.` against `\tBe kind.` renders
//!   `- ····Be kind.` and `+ →Be kind.`.
//! - Lines are compared without their terminators, so a last line that lost
//!   its newline (because the line after it was removed) is unchanged. When
//!   the terminators are the one difference, the block shows a note instead
//!   of changed lines: the last lines and
//!   `\ No newline at end of the local value` (or `server`), or
//!   `\ Line endings differ on N lines (line K ends in \r\n on the server,
//!   \n locally)`.
//! - Control characters are shown as Unicode control pictures (`\u{1b}` is
//!   `␛`, DEL `␡`, C1 controls `�`); bidirectional overrides and zero-width
//!   spaces as `<U+202E>` etc., so nothing is hidden or reordered.
//!
//! # Colour
//!
//! With [`Style::color`], removed lines are red, added lines green, the
//! frame, legend, unchanged and collapsed lines gray (bright black), the
//! title bold. Within a changed pair, words that differ are bold and
//! underlined in the line's colour. Every coloured piece resets at its end.
//! Word highlights are computed per pair of removed/added lines (paired in
//! order within a replaced block) and skipped for lines over 2,000
//! characters, for pairs too dissimilar to pair meaningfully, and once the
//! time budget is spent.
//!
//! # Performance
//!
//! The line diff uses the Patience algorithm with a 500 ms budget for the
//! whole [`compute`] call; past the deadline `similar` returns a valid,
//! coarser diff. Only hunk lines are copied, so a 100,000-line value with a
//! few changes costs little more than the diff itself.

mod compute;
pub mod display;
mod drift;
mod lines;
mod render;
mod text;

pub use compute::compute;
pub use display::{push_terminal_safe, terminal_safe};
pub use drift::{Drift, Hunk, Line, LineTag, Segment};
pub use lines::{EndingNote, LineEnding, Side, Terminators};
pub use render::{Style, render, render_block, render_block_between, render_short};
pub use text::{preview, unified};
