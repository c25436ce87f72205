//! Source files: reading them (from disk or memory), hashing, positions, relative paths, and
//! the miette code frames shown in diagnostics.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use sha2::{Digest, Sha256};

/// sha256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Run `f` on a thread with a large stack. The parser and the AST walks recurse once per
/// nesting level of the source, so a pathological file (`((((...` a hundred thousand deep)
/// would overflow a normal stack; the reserve is virtual, only the pages used are committed.
/// Falls back to a smaller stack, then to the current thread, if the system refuses a thread.
/// `None` only if the job could not be run at all (which the fallbacks make impossible in
/// practice).
pub(crate) fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    const SIZES: [usize; 2] = [1 << 30, 256 << 20];
    let slot = std::sync::Mutex::new(Some(f));
    // A failed spawn drops its copy of `run` without running it, leaving the job in `slot`.
    let run = || {
        slot.lock()
            .ok()
            .and_then(|mut job| job.take())
            .map(|job| job())
    };
    let spawned = std::thread::scope(|scope| {
        for size in SIZES {
            let builder = std::thread::Builder::new()
                .name("lua-compile".into())
                .stack_size(size);
            if let Ok(handle) = builder.spawn_scoped(scope, run) {
                return Some(handle.join());
            }
        }
        None
    });
    match spawned {
        Some(Ok(out)) => out,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => run(),
    }
}

/// Where the files of a project come from. The evaluator only reads through this, so the
/// same code evaluates a project on disk or one held in memory (tests, benches, fuzzing).
pub(crate) trait Loader: Sync {
    /// The bytes of `rel` (a normalized relative path).
    fn read(&self, rel: &str) -> io::Result<Vec<u8>>;
    /// Whether `rel` names an existing regular file.
    fn is_file(&self, rel: &str) -> bool;
    /// The path to show in an I/O error.
    fn display_path(&self, rel: &str) -> PathBuf {
        PathBuf::from(rel)
    }
}

/// Files under a project root on disk.
pub(crate) struct FsLoader<'r> {
    pub root: &'r Path,
}

impl Loader for FsLoader<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        read_regular(&self.root.join(rel))
    }
    fn is_file(&self, rel: &str) -> bool {
        // Anything but a folder is the module: reading a FIFO or a device then fails with a
        // message naming it, instead of a vague "no such module".
        std::fs::metadata(self.root.join(rel)).is_ok_and(|m| !m.is_dir())
    }
}

/// The largest source file read: 16 MiB. Real agent sources are far smaller; the cap keeps a
/// hostile repository (a symlink to a huge or endless file) from exhausting memory.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Read `path` if it is a regular file of at most [`MAX_SOURCE_BYTES`]. A FIFO, socket or
/// device (also through a symlink, such as one to `/dev/zero`) is refused without blocking:
/// it is opened non-blocking and checked with `fstat` before any read.
pub(crate) fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    read_regular_capped(path, MAX_SOURCE_BYTES)
}

pub(crate) fn read_regular_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    read_capped(&open_regular(path)?, cap)
}

/// Open `path` for reading if it is a regular file (a FIFO does not block the open).
pub(crate) fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer comes, unless non-blocking.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", describe_file_type(&meta)),
        ));
    }
    Ok(file)
}

/// All of an open regular file, from its start, refusing more than `cap` bytes.
pub(crate) fn read_capped(file: &std::fs::File, cap: u64) -> io::Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _};
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than the {} MiB limit", cap >> 20),
        )
    };
    let len = file.metadata()?.len();
    if len > cap {
        return Err(too_large());
    }
    let mut reader = file;
    reader.rewind()?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    reader.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

fn describe_file_type(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a plain file"
}

/// Files held in memory, by normalized relative path.
pub(crate) struct MemoryLoader<'m> {
    pub files: &'m BTreeMap<String, String>,
}

impl Loader for MemoryLoader<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.files
            .get(rel)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file in memory"))
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }
}

/// Normalize a relative path lexically: `/` separators, no `.` segments, `..` folded where it
/// can be (leading `..` kept: the file is outside the root).
pub(crate) fn normalize_rel(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The folder part of a normalized relative path (`""` for a file at the root).
pub(crate) fn parent_rel(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Join a relative import specifier onto the folder of `importer`.
pub(crate) fn join_rel(importer: &str, specifier: &str) -> String {
    let dir = parent_rel(importer);
    if dir.is_empty() {
        normalize_rel(specifier)
    } else {
        normalize_rel(&format!("{dir}/{specifier}"))
    }
}

/// The entry as a normalized path relative to `root` (an absolute entry inside `root` is
/// made relative).
pub(crate) fn entry_rel(root: &Path, entry: &str) -> String {
    let p = Path::new(entry);
    if p.is_absolute()
        && let Ok(stripped) = p.strip_prefix(root)
    {
        return normalize_rel(&stripped.to_string_lossy());
    }
    normalize_rel(entry)
}

/// Bytes between two entries of [`SourceText`]'s char index.
const CHAR_STEP: usize = 256;

/// A file's text with a line index, for turning byte offsets into line/column.
pub(crate) struct SourceText {
    pub rel: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// For each `k`: the chars before the first char boundary at or after `k * CHAR_STEP`,
    /// and that boundary. A column is then a difference of two lookups, each counting at
    /// most `CHAR_STEP` bytes: constant per value, so a `+` chain of 400k terms on one line
    /// (an origin per operand) stays linear instead of counting its line once per operand.
    char_index: Vec<(usize, usize)>,
}

impl SourceText {
    pub fn new(rel: String, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut char_index = Vec::with_capacity(text.len() / CHAR_STEP + 1);
        let (mut at, mut chars) = (0, 0);
        for k in 0..=text.len() / CHAR_STEP {
            let mut boundary = (k * CHAR_STEP).max(at);
            while !text.is_char_boundary(boundary) {
                boundary += 1;
            }
            chars += text[at..boundary].chars().count();
            at = boundary;
            char_index.push((chars, at));
        }
        SourceText {
            rel,
            text,
            line_starts,
            char_index,
        }
    }

    /// Chars before byte `offset` (a char boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let mut k = (offset / CHAR_STEP).min(self.char_index.len().saturating_sub(1));
        // The entry's boundary may lie past `offset` (inside a char at the step).
        while k > 0 && self.char_index[k].1 > offset {
            k -= 1;
        }
        let (chars, at) = self.char_index.get(k).copied().unwrap_or((0, 0));
        chars + self.text.get(at..offset).map_or(0, |s| s.chars().count())
    }

    /// 0-based line index of byte `offset`.
    fn line_index(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based (line, column in chars) of byte `offset`; offsets past the end or inside a
    /// char are clamped.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = self.clamp(offset as usize);
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self.chars_before(offset) - self.chars_before(start.min(offset));
        (to_u32(line + 1), to_u32(col + 1))
    }

    /// `offset` moved back to the nearest char boundary within the text.
    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// Render a plain-text code frame with `label` under `start..end` (clamped to the first
    /// line of the span, so a multi-line persona does not fill the screen).
    pub fn frame(&self, start: u32, end: u32, label: &str) -> String {
        let start = self.clamp(start as usize);
        let end = self.clamp((end as usize).max(start));
        let line = self.line_index(start);
        let line_start = self.line_starts.get(line).copied().unwrap_or(0);
        // A span may start on the line break itself (a `\r` before `\n`).
        let start = start.min(self.line_end(line));
        let end = end.min(self.line_end(line)).max(start);
        let col = self.text[line_start..start].chars().count();
        let len = self.text[start..end].chars().count();
        // Only the lines around the span go to miette, each cut to a readable excerpt: miette
        // scans its source from the start (quadratic over many diagnostics in a large file)
        // and cannot render columns past 65,535.
        let mut text = String::new();
        let mut label_span = (0, 0);
        let first = line.saturating_sub(1);
        let last = (line + 1).min(self.line_starts.len() - 1);
        for l in first..=last {
            if l > first {
                text.push('\n');
            }
            let focus = (l == line).then_some((col, len));
            let (excerpt, span) = excerpt(self.line_text(l), focus);
            if let Some((s, n)) = span {
                label_span = (text.len() + s, n);
            }
            text.push_str(&excerpt);
        }
        let window = Window {
            name: self.rel.clone(),
            text,
            first_line: first,
            label_offset: label_span.0,
            label_column: col,
        };
        let diag = FrameDiagnostic {
            source: window,
            label: LabeledSpan::new_primary_with_span(
                Some(sanitize_label(label)),
                SourceSpan::new(label_span.0.into(), label_span.1),
            ),
        };
        render_frame(&diag)
    }

    /// The text of line `line`, without its line break.
    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        self.text.get(start..self.line_end(line)).unwrap_or("")
    }

    /// Byte offset of the end of line `line` (before its `\n` or `\r\n`).
    fn line_end(&self, line: usize) -> usize {
        let next = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |s| s - 1);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        if next > start && self.text.as_bytes().get(next - 1) == Some(&b'\r') {
            next - 1
        } else {
            next
        }
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Longest excerpt of a source line shown in a frame, in chars.
const MAX_LINE_CHARS: usize = 120;

/// A printable excerpt of `line`: at most [`MAX_LINE_CHARS`] chars (around the focus, if any),
/// `…` where cut, control and bidi-override characters replaced so a frame cannot drive the
/// terminal. With a focus (char column, char length), also returns its byte span in the
/// excerpt.
fn excerpt(line: &str, focus: Option<(usize, usize)>) -> (String, Option<(usize, usize)>) {
    let chars: Vec<char> = line.chars().collect();
    let (from, to) = match focus {
        Some((col, _)) if chars.len() > MAX_LINE_CHARS => {
            let from = col.saturating_sub(30).min(chars.len());
            (from, (from + MAX_LINE_CHARS).min(chars.len()))
        }
        _ => (0, chars.len().min(MAX_LINE_CHARS)),
    };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut span = None;
    for (i, c) in chars.iter().enumerate().take(to).skip(from) {
        if let Some((col, _)) = focus
            && i == col
        {
            span = Some(out.len());
        }
        out.push(printable(*c));
    }
    if let Some((col, _)) = focus
        && span.is_none()
    {
        // The span starts at the end of the line (or past the excerpt).
        span = Some(if col >= to { out.len() } else { 0 });
    }
    let label = span.map(|start| {
        let len_chars = focus.map_or(0, |(col, len)| len.min(to.saturating_sub(col)));
        let len = out[start..]
            .chars()
            .take(len_chars)
            .map(char::len_utf8)
            .sum();
        (start, len)
    });
    if to < chars.len() {
        out.push('…');
    }
    (out, label)
}

fn printable(c: char) -> char {
    let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if (c.is_control() && c != '\t') || bidi || c == '\u{2028}' || c == '\u{2029}' {
        '\u{fffd}'
    } else {
        c
    }
}

fn sanitize_label(label: &str) -> String {
    label.chars().map(printable).collect()
}

/// A few lines cut from a file that still report their real line numbers (and the label's
/// real column) to miette.
struct Window {
    name: String,
    text: String,
    first_line: usize,
    label_offset: usize,
    label_column: usize,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // miette counts columns in bytes of its (excerpted) text; diagnostics here count chars
        // of the real line.
        let offset = inner.span().offset().min(self.text.len());
        let column = if offset == self.label_offset {
            self.label_column
        } else {
            let line_start = self
                .text
                .get(..offset)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            self.text
                .get(line_start..offset)
                .map_or(0, |t| t.chars().count())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

struct FrameDiagnostic {
    source: Window,
    label: LabeledSpan,
}

impl fmt::Debug for FrameDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FrameDiagnostic")
    }
}

impl fmt::Display for FrameDiagnostic {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for FrameDiagnostic {}

impl Diagnostic for FrameDiagnostic {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

/// Render with miette, keep only the snippet (from the `╭─[file:line:col]` line on): the
/// message is already in the caller's one-line summary.
fn render_frame(diag: &FrameDiagnostic) -> String {
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_links(false)
        .with_width(100)
        .with_context_lines(1);
    if handler.render_report(&mut out, diag).is_err() {
        return String::new();
    }
    let Some(pos) = out.find('╭') else {
        return String::new();
    };
    let line_start = out[..pos].rfind('\n').map_or(0, |i| i + 1);
    out[line_start..].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column as counted from the start of the line, char by char.
    fn naive(text: &str, offset: usize) -> (u32, u32) {
        let before = &text[..offset];
        let line = before.matches('\n').count();
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            to_u32(line + 1),
            to_u32(text[start..offset].chars().count() + 1),
        )
    }

    #[test]
    fn columns_count_chars_across_the_index_steps() {
        // Multi-byte chars straddle the steps; long and short lines, CRLF.
        let mut text = String::new();
        for i in 0..2000 {
            text.push_str(["a", "é", "€", "𝄞", "\r\n", "\n", "bc"][i % 7]);
            if i % 500 == 499 {
                text.push_str(&"ü".repeat(300));
            }
        }
        let src = SourceText::new("x.ts".into(), text.clone());
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            assert_eq!(
                src.line_col(u32::try_from(offset).unwrap()),
                naive(&text, offset),
                "at {offset}"
            );
        }
        let empty = SourceText::new("e.ts".into(), String::new());
        assert_eq!(empty.line_col(0), (1, 1));
        assert_eq!(empty.line_col(10), (1, 1));
    }
}
