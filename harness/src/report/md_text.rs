//! Checker text made safe inside Markdown: running text and table cells.
//! Below both Markdown renderers (`markdown`, `recovery_md`) so neither
//! reaches into the other.

/// Text in running prose, escaped only where a renderer would otherwise
/// act on it, so the raw Markdown stays readable (`ok ratio 0.2 < 0.5`):
/// a `<` that could open an HTML tag and an `&` that could start an entity
/// become entities (a renderer must show `<script>`, not run it); a `>` or
/// `#` that starts the text would start a quote or a heading; emphasis and
/// code markers get a backslash. Brackets and underscores stay: they only
/// take effect in shapes checker text does not have.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied().unwrap_or(' ');
        match c {
            '<' if next.is_ascii_alphabetic() || matches!(next, '/' | '!' | '?') => {
                out.push_str("&lt;")
            }
            '&' if next.is_ascii_alphanumeric() || next == '#' => out.push_str("&amp;"),
            '>' if out.is_empty() => out.push_str("&gt;"),
            '#' if out.is_empty() => out.push_str("\\#"),
            '\\' | '`' | '*' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Text in a table cell: [`inline`], plus `|` (which would end the cell)
/// and newlines (which would end the row) made harmless.
pub fn cell(text: &str) -> String {
    inline(text.trim())
        .replace('|', "\\|")
        .replace('\n', "<br>")
}
