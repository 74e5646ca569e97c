// SPDX-License-Identifier: GPL-2.0
//! A small C tokenizer for the header renamer and the prototype parser.
//!
//! It splits C text into tokens that keep their exact spelling, so that the
//! text can be written back unchanged except for the tokens we replace.
//! Comments, string and character literals, numbers and whitespace are
//! tokens of their own and are never mistaken for identifiers.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Spaces, tabs, newlines and backslash-newline continuations.
    Space,
    /// `/* ... */` or `// ...` (without the final newline).
    Comment,
    /// `"..."`, `'...'` and `<...>` after `#include`.
    Literal,
    Ident,
    Number,
    Punct,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub kind: Kind,
    pub text: String,
    /// True for tokens on a preprocessor directive line.
    pub directive: bool,
}

fn is_ident_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_ident_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// Splits `src` into tokens whose texts concatenate back to `src`.
pub fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    // At the start of a line (only spaces so far): a '#' opens a directive.
    let mut line_start = true;
    let mut directive = false;
    // After `#include`, a `<...>` is one literal token.
    let mut want_header_name = false;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind;
        if c == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
            kind = Kind::Space;
        } else if c == b'\n' {
            i += 1;
            kind = Kind::Space;
            directive = false;
            line_start = true;
            want_header_name = false;
            out.push(Token {
                kind,
                text: src[start..i].to_string(),
                directive: false,
            });
            continue;
        } else if c.is_ascii_whitespace() {
            while i < b.len() && b[i] != b'\n' && b[i].is_ascii_whitespace() {
                i += 1;
            }
            kind = Kind::Space;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            kind = Kind::Comment;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            kind = Kind::Comment;
        } else if c == b'"' || c == b'\'' || (c == b'<' && want_header_name) {
            let close = if c == b'<' { b'>' } else { c };
            i += 1;
            while i < b.len() && b[i] != close && b[i] != b'\n' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            kind = Kind::Literal;
        } else if is_ident_start(c) {
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
            kind = Kind::Ident;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            // A preprocessing number: digits, letters, '.', and signed exponents.
            i += 1;
            while i < b.len() {
                let d = b[i];
                let sign =
                    (d == b'+' || d == b'-') && matches!(b[i - 1], b'e' | b'E' | b'p' | b'P');
                if sign || is_ident_char(d) || d == b'.' {
                    i += 1;
                } else {
                    break;
                }
            }
            kind = Kind::Number;
        } else {
            i += 1;
            kind = Kind::Punct;
        }
        let text = &src[start..i];
        if kind == Kind::Punct && text == "#" && line_start {
            directive = true;
        }
        if kind != Kind::Space && kind != Kind::Comment {
            if directive && kind == Kind::Ident && text == "include" {
                want_header_name = true;
            } else if !(kind == Kind::Punct && text == "#") {
                want_header_name = false;
            }
            line_start = false;
        }
        out.push(Token {
            kind,
            text: text.to_string(),
            directive,
        });
    }
    out
}

/// The tokens that matter to a parser: no spaces, no comments.
pub fn significant(tokens: &[Token]) -> Vec<Token> {
    tokens
        .iter()
        .filter(|t| t.kind != Kind::Space && t.kind != Kind::Comment)
        .cloned()
        .collect()
}
