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

/// Where the files of a project come from. The evaluator only reads through this, so the
/// same code evaluates a project on disk or one held in memory (tests, benches, fuzzing).
pub(crate) trait Loader {
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
        std::fs::read(self.root.join(rel))
    }
    fn is_file(&self, rel: &str) -> bool {
        self.root.join(rel).is_file()
    }
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

/// A file's text with a line index, for turning byte offsets into line/column.
pub(crate) struct SourceText {
    pub rel: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceText {
    pub fn new(rel: String, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText { rel, text, line_starts }
    }

    /// 0-based line index of byte `offset`.
    fn line_index(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// 1-based (line, column in chars) of byte `offset`; offsets past the end or inside a
    /// char are clamped.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = self.clamp(offset as usize);
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self.text.get(start..offset).map_or(0, |s| s.chars().count());
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
        let line_end = self.line_end(line);
        let end = end.min(line_end);
        // Only the lines around the span go to miette: it scans its source from the start,
        // which would make many diagnostics in a large file quadratic.
        let first = line.saturating_sub(1);
        let win_start = self.line_starts.get(first).copied().unwrap_or(0);
        let win_end = self.line_end((line + 1).min(self.line_starts.len() - 1));
        let window = Window {
            name: self.rel.clone(),
            text: self.text.get(win_start..win_end).unwrap_or("").to_owned(),
            first_line: first,
        };
        let diag = FrameDiagnostic {
            source: window,
            label: LabeledSpan::new_primary_with_span(
                Some(label.to_owned()),
                SourceSpan::new((start - win_start).into(), end - start),
            ),
        };
        render_frame(&diag)
    }

    /// Byte offset of the end of line `line` (before its `\n` or `\r\n`).
    fn line_end(&self, line: usize) -> usize {
        let next = self.line_starts.get(line + 1).map_or(self.text.len(), |s| s - 1);
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

/// A few lines cut from a file that still report their real line numbers to miette.
struct Window {
    name: String,
    text: String,
    first_line: usize,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // miette counts columns in bytes; diagnostics here count chars.
        let offset = inner.span().offset().min(self.text.len());
        let line_start = self.text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let column = self.text.get(line_start..offset).map_or(0, |t| t.chars().count());
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
