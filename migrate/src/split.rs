//! Splitting a SQL file into statements, the way the Supabase CLI does.
//!
//! The Supabase CLI stores each migration's statements in
//! `supabase_migrations.schema_migrations.statements`: it cuts the file at every semicolon that is
//! outside quotes (`'…'`, `"…"`), dollar quotes (`$tag$…$tag$`), comments (`--`, nested `/* */`),
//! parentheses and `BEGIN ATOMIC … END` bodies, keeps comments and inner whitespace, then trims
//! trailing semicolons and surrounding whitespace and drops empty pieces. We do the same, and also
//! remember where each statement starts in the file so an error position can be shown as
//! `line:column` of the file.

/// One statement of a SQL file: its byte range in the file, after trimming.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementSpan {
    /// Byte offset of the first character of the statement in the file.
    pub start: usize,
    /// Byte offset one past the last character (semicolon and whitespace excluded).
    pub end: usize,
    /// False when the piece holds only comments (the server then sees no statement there).
    pub has_code: bool,
}

impl StatementSpan {
    /// The statement's text within `sql` (the text it was split from).
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Ready,
    LineComment,
    Block(u32),
    /// Inside `'…'` or `"…"`; `true` when backslash escapes apply (`E'…'`).
    Quote(u8, bool),
    /// Inside a dollar quote whose opening tag is `sql[start..start + len]`.
    Dollar(usize, usize),
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Length of the dollar-quote tag (`$$` or `$name$`) starting at `i`, if there is one.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < b.len() && is_ident_start(b[j]) {
        while j < b.len() && (is_ident_start(b[j]) || b[j].is_ascii_digit()) {
            j += 1;
        }
    }
    (j < b.len() && b[j] == b'$').then_some(j + 1 - i)
}

/// Splits `sql` into statements (see the module documentation).
pub fn split_statements(sql: &str) -> Vec<StatementSpan> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Ready;
    let mut parens = 0u32;
    // `Some(depth)` inside a `BEGIN ATOMIC` body; depth counts open `CASE … END`s.
    let mut atomic: Option<u32> = None;
    let mut last_word = String::new();
    let mut token_start = 0;
    let mut has_code = false;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        if let State::Ready = state {
            let comment = matches!((b[i], next), (b'-', Some(b'-')) | (b'/', Some(b'*')));
            if !comment && !b[i].is_ascii_whitespace() && b[i] != b';' {
                has_code = true;
            }
        }
        match state {
            State::Ready => match b[i] {
                b'-' if next == Some(b'-') => {
                    state = State::LineComment;
                    i += 2;
                }
                b'/' if next == Some(b'*') => {
                    state = State::Block(1);
                    i += 2;
                }
                q @ (b'\'' | b'"') => {
                    state = State::Quote(q, false);
                    i += 1;
                }
                b'$' => match dollar_tag(b, i) {
                    Some(len) => {
                        state = State::Dollar(i, len);
                        i += len;
                    }
                    None => i += 1,
                },
                b'\\' => i += 2,
                b'(' => {
                    parens += 1;
                    i += 1;
                }
                b')' => {
                    parens = parens.saturating_sub(1);
                    i += 1;
                }
                b';' if parens == 0 && atomic.is_none() => {
                    push_trimmed(sql, token_start, i + 1, has_code, &mut out);
                    token_start = i + 1;
                    has_code = false;
                    last_word.clear();
                    i += 1;
                }
                c if is_ident_start(c) => {
                    let mut j = i + 1;
                    while j < b.len() && is_ident_cont(b[j]) {
                        j += 1;
                    }
                    let word = sql[i..j].to_ascii_uppercase();
                    if word == "E" && b.get(j) == Some(&b'\'') {
                        state = State::Quote(b'\'', true);
                        i = j + 1;
                        continue;
                    }
                    atomic = match (atomic, word.as_str()) {
                        (None, "ATOMIC") if last_word == "BEGIN" => Some(0),
                        (Some(d), "CASE") => Some(d + 1),
                        (Some(0), "END") => None,
                        (Some(d), "END") => Some(d - 1),
                        (a, _) => a,
                    };
                    last_word = word;
                    i = j;
                }
                _ => i += 1,
            },
            State::LineComment => {
                if b[i] == b'\n' {
                    state = State::Ready;
                }
                i += 1;
            }
            State::Block(depth) => {
                if b[i] == b'/' && next == Some(b'*') {
                    state = State::Block(depth + 1);
                    i += 2;
                } else if b[i] == b'*' && next == Some(b'/') {
                    state = if depth == 1 {
                        State::Ready
                    } else {
                        State::Block(depth - 1)
                    };
                    i += 2;
                } else {
                    i += 1;
                }
            }
            State::Quote(q, backslash) => {
                if backslash && b[i] == b'\\' {
                    i += 2;
                } else if b[i] == q {
                    if next == Some(q) {
                        i += 2;
                    } else {
                        state = State::Ready;
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
            State::Dollar(start, len) => {
                if b[i..].starts_with(&b[start..start + len]) {
                    state = State::Ready;
                    i += len;
                } else {
                    i += 1;
                }
            }
        }
    }
    push_trimmed(sql, token_start, b.len(), has_code, &mut out);
    out
}

fn push_trimmed(sql: &str, start: usize, end: usize, has_code: bool, out: &mut Vec<StatementSpan>) {
    // A `\` escape at the very end may step past the end; clamp.
    let end = end.min(sql.len());
    if start >= end {
        return;
    }
    let token = &sql[start..end];
    let without_semicolons = token.trim_end_matches(';');
    let trimmed = without_semicolons.trim();
    if trimmed.is_empty() {
        return;
    }
    let lead = without_semicolons.len() - without_semicolons.trim_start().len();
    out.push(StatementSpan {
        start: start + lead,
        end: start + lead + trimmed.len(),
        has_code,
    });
}

/// 1-based line and column (in characters) of byte offset `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Byte offset in `statement` of Postgres' 1-based character `position`.
pub(crate) fn position_to_offset(statement: &str, position: u32) -> usize {
    let index = (position as usize).saturating_sub(1);
    statement
        .char_indices()
        .nth(index)
        .map_or(statement.len(), |(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).iter().map(|s| s.text(sql)).collect()
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let sql = "create table a (id int);\n-- c; still comment\ninsert into a values (1);;\n\
                   select 'x;y', \"we;ird\", $$a;b$$, $fn$ c; $$ d $fn$;\n/* a /* nested; */ ; */ select 2";
        assert_eq!(
            texts(sql),
            vec![
                "create table a (id int)",
                "-- c; still comment\ninsert into a values (1)",
                "select 'x;y', \"we;ird\", $$a;b$$, $fn$ c; $$ d $fn$",
                "/* a /* nested; */ ; */ select 2",
            ]
        );
    }

    #[test]
    fn keeps_begin_atomic_bodies_and_parentheses_together() {
        let sql = "create function f() returns int language sql begin atomic select case when true then 1 end; select 2; end;\n\
                   create rule r as on insert to t do (insert into u values (1); insert into v values (2));\nselect E'it\\'s;' ; select $1";
        assert_eq!(
            texts(sql),
            vec![
                "create function f() returns int language sql begin atomic select case when true then 1 end; select 2; end",
                "create rule r as on insert to t do (insert into u values (1); insert into v values (2))",
                "select E'it\\'s;'",
                "select $1",
            ]
        );
    }

    #[test]
    fn quotes_with_doubled_delimiters_and_identifiers_with_dollar() {
        let sql = "select 'it''s; fine'; select a$b$c from t; select 1";
        assert_eq!(
            texts(sql),
            vec!["select 'it''s; fine'", "select a$b$c from t", "select 1"]
        );
    }

    #[test]
    fn empty_and_whitespace_only_pieces_are_dropped() {
        assert!(texts("  ;\n ; \n").is_empty());
        assert_eq!(texts("select 1"), vec!["select 1"]);
    }

    #[test]
    fn comment_only_pieces_are_kept_but_marked() {
        let sql = "-- a\nselect 1; /* only */ ; -- tail";
        let code: Vec<bool> = split_statements(sql).iter().map(|s| s.has_code).collect();
        assert_eq!(texts(sql), vec!["-- a\nselect 1", "/* only */", "-- tail"]);
        assert_eq!(code, vec![true, false, false]);
    }

    #[test]
    fn spans_point_into_the_file() {
        let sql = "select 1;\n\n  select ünï, x from y;";
        let spans = split_statements(sql);
        assert_eq!(line_column(sql, spans[1].start), (3, 3));
        let second = spans[1].text(sql);
        let at = spans[1].start + position_to_offset(second, 13);
        assert_eq!(line_column(sql, at), (3, 15));
        assert_eq!(&sql[at..at + 1], "x");
    }
}
