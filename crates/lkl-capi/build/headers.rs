// SPDX-License-Identifier: GPL-2.0
//! Renames the kernel's exported (uapi) headers into LKL's prefixed form.
//!
//! Every identifier the headers define (macros, typedefs, enum constants,
//! inline functions, and struct/union/enum tags) gets LKL's prefix, on
//! tokens: comments, literals and parts of longer identifiers are never
//! touched. `#include <x>` of an exported header becomes
//! `#include <lkl/x>`. The set of names comes from the headers themselves.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::ctok::{significant, tokenize, Kind, Token};

/// LKL's prefix rule: the leading underscores stay in front, then `lkl`
/// (or `LKL` for names without lower case), then `_` unless the name
/// itself starts with one. `stat` -> `lkl_stat`, `O_RDWR` -> `LKL_O_RDWR`,
/// `__kernel_size_t` -> `__lkl__kernel_size_t`, `_IOC` -> `_LKL_IOC`.
pub fn prefixed(name: &str) -> String {
    let lead = if name.starts_with("__") {
        "__"
    } else if name.starts_with('_') {
        "_"
    } else {
        ""
    };
    let upper = !name.bytes().any(|c| c.is_ascii_lowercase())
        && name.bytes().any(|c| c.is_ascii_uppercase());
    let mut out = String::from(lead);
    out.push_str(if upper { "LKL" } else { "lkl" });
    if !name.starts_with('_') {
        out.push('_');
    }
    out.push_str(name);
    out
}

/// Names that already carry the prefix are left alone.
fn has_prefix(name: &str) -> bool {
    let bare = name.trim_start_matches('_');
    bare.starts_with("lkl") || bare.starts_with("LKL")
}

/// The names a set of headers defines.
#[derive(Default, Clone)]
pub struct Names {
    /// Macros, typedefs, enum constants and inline functions: renamed
    /// wherever they appear as identifiers.
    pub ordinary: BTreeSet<String>,
    /// struct/union/enum tags: renamed after `struct`, `union` or `enum`.
    pub tags: BTreeSet<String>,
    /// The typedef names among `ordinary`.
    pub typedefs: BTreeSet<String>,
}

impl Names {
    fn add(set: &mut BTreeSet<String>, name: &str) {
        if !has_prefix(name) {
            set.insert(name.to_string());
        }
    }

    /// Collects what `src` defines.
    pub fn collect(&mut self, src: &str) {
        let all = tokenize(src);
        let sig = significant(&all);
        // Macros: `# define NAME`.
        for w in sig.windows(3) {
            if w[0].directive
                && w[0].text == "#"
                && w[1].text == "define"
                && w[2].kind == Kind::Ident
            {
                Self::add(&mut self.ordinary, &w[2].text);
            }
        }
        // Declarations, without the directive lines.
        let code: Vec<Token> = sig.into_iter().filter(|t| !t.directive).collect();
        let mut depth = 0usize;
        let mut i = 0;
        while i < code.len() {
            let t = &code[i].text;
            match t.as_str() {
                "{" => depth += 1,
                "}" => depth = depth.saturating_sub(1),
                "struct" | "union" | "enum" => {
                    let named = code.get(i + 1).filter(|n| n.kind == Kind::Ident);
                    let brace = if named.is_some() { i + 2 } else { i + 1 };
                    if code.get(brace).is_some_and(|b| b.text == "{") {
                        if let Some(n) = named {
                            Self::add(&mut self.tags, &n.text);
                        }
                        if t == "enum" {
                            self.enum_constants(&code[brace + 1..]);
                        }
                    }
                }
                "typedef" => {
                    let end = statement_end(&code, i + 1);
                    self.typedef_names(&code[i + 1..end]);
                }
                "(" if depth == 0 && i > 0 && code[i - 1].kind == Kind::Ident => {
                    // A function definition at file scope: `name(...) {`.
                    let close = matching(&code, i);
                    if code.get(close + 1).is_some_and(|n| n.text == "{") {
                        let name = &code[i - 1].text;
                        if name != "__attribute__" {
                            Self::add(&mut self.ordinary, name);
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// The constants of an enum body (tokens after its `{`).
    fn enum_constants(&mut self, body: &[Token]) {
        let mut depth = 0usize;
        let mut expect_name = true;
        for t in body {
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                "}" if depth == 0 => return,
                "}" => depth -= 1,
                "," if depth == 0 => expect_name = true,
                _ if expect_name && t.kind == Kind::Ident => {
                    Self::add(&mut self.ordinary, &t.text);
                    expect_name = false;
                }
                _ => {}
            }
        }
    }

    /// The names a typedef declares (tokens between `typedef` and `;`).
    fn typedef_names(&mut self, decl: &[Token]) {
        // Drop brace bodies and __attribute__((...)) groups.
        let mut flat: Vec<&Token> = Vec::new();
        let mut i = 0;
        while i < decl.len() {
            let t = &decl[i];
            if t.text == "{" {
                i = matching(decl, i) + 1;
                continue;
            }
            if t.text == "__attribute__" || t.text == "__attribute" {
                i += 1;
                if decl.get(i).is_some_and(|p| p.text == "(") {
                    i = matching(decl, i) + 1;
                }
                continue;
            }
            flat.push(t);
            i += 1;
        }
        let mut paren = 0usize;
        let mut segment: Vec<&Token> = Vec::new();
        let mut segments = Vec::new();
        for t in flat {
            match t.text.as_str() {
                "(" | "[" => paren += 1,
                ")" | "]" => paren = paren.saturating_sub(1),
                "," if paren == 0 => {
                    segments.push(std::mem::take(&mut segment));
                    continue;
                }
                _ => {}
            }
            segment.push(t);
        }
        segments.push(segment);
        for seg in segments {
            if let Some(name) = declarator_name(&seg) {
                Self::add(&mut self.ordinary, &name);
                Self::add(&mut self.typedefs, &name);
            }
        }
    }
}

/// The declared name in one declarator (with its type in front, for the
/// first one): `(*name)(...)` or the last identifier before `[` or `(`.
fn declarator_name(seg: &[&Token]) -> Option<String> {
    for w in seg.windows(3) {
        if w[0].text == "(" && w[1].text == "*" && w[2].kind == Kind::Ident {
            return Some(w[2].text.clone());
        }
    }
    let stop = seg
        .iter()
        .position(|t| t.text == "[" || t.text == "(")
        .unwrap_or(seg.len());
    seg[..stop]
        .iter()
        .rev()
        .find(|t| t.kind == Kind::Ident)
        .map(|t| t.text.clone())
}

/// Index of the `;` ending the statement that starts at `from`, skipping
/// nested braces and parentheses.
fn statement_end(code: &[Token], from: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in code.iter().enumerate().skip(from) {
        match t.text.as_str() {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => depth = depth.saturating_sub(1),
            ";" if depth == 0 => return i,
            _ => {}
        }
    }
    code.len()
}

/// Index of the bracket closing the one at `open`.
fn matching(code: &[Token], open: usize) -> usize {
    let (o, c) = match code[open].text.as_str() {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        _ => ("{", "}"),
    };
    let mut depth = 0usize;
    for (i, t) in code.iter().enumerate().skip(open) {
        if t.text == o {
            depth += 1;
        } else if t.text == c {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    code.len() - 1
}

/// Identifiers declared as struct/union members: an identifier followed by
/// `;`, `[`, `:` or `,` inside braces. The renamer prefixes those that the
/// host libc defines as macros (glibc's `st_atime`, for one), which would
/// otherwise rewrite our struct members.
pub fn member_names(src: &str) -> BTreeSet<String> {
    let sig: Vec<Token> = significant(&tokenize(src))
        .into_iter()
        .filter(|t| !t.directive)
        .collect();
    let mut out = BTreeSet::new();
    // For each open brace: does it open a struct or union body?
    let mut braces: Vec<bool> = Vec::new();
    for (i, t) in sig.iter().enumerate() {
        match t.text.as_str() {
            "{" => {
                let prev = |k: usize| i.checked_sub(k).map(|j| sig[j].text.as_str());
                let record = matches!(prev(1), Some("struct" | "union"))
                    || (matches!(prev(2), Some("struct" | "union"))
                        && sig[i - 1].kind == Kind::Ident);
                braces.push(record);
            }
            "}" => {
                braces.pop();
            }
            _ if braces.last() == Some(&true)
                && t.kind == Kind::Ident
                && sig
                    .get(i + 1)
                    .is_some_and(|n| matches!(n.text.as_str(), ";" | "[" | ":" | ",")) =>
            {
                out.insert(t.text.clone());
            }
            _ => {}
        }
    }
    out
}

/// How to rewrite one header.
pub struct Renamer<'a> {
    pub names: &'a Names,
    /// The exported headers, to tell their includes from libc's.
    pub uapi: &'a Path,
    /// Our headers to include after a libc header: they define, renamed,
    /// the types a header takes from that libc header.
    pub libc_additions: &'a [(&'a str, &'a str)],
}

impl Renamer<'_> {
    pub fn rename(&self, src: &str) -> String {
        let tokens = tokenize(src);
        let mut out = String::with_capacity(src.len() + src.len() / 8);
        let mut prev_sig: Option<&str> = None;
        let mut in_include = false;
        // Significant tokens so far on the current directive line.
        let mut line: Vec<&str> = Vec::new();
        for t in &tokens {
            let mut text = t.text.clone();
            if !t.directive {
                line.clear();
            }
            // `#define alias tag`, as x86's `#define _fpstate _fpstate_64`.
            let tag_alias = line.len() == 3 && line[..2] == ["#", "define"];
            match t.kind {
                Kind::Ident => {
                    let after_tag_keyword =
                        tag_alias || matches!(prev_sig, Some("struct" | "union" | "enum"));
                    // After `struct` comes a tag, or a macro that expands
                    // to one (stddef.h's __struct_group_tag, x86's _fpstate).
                    let rename = if after_tag_keyword {
                        self.names.tags.contains(&text) || self.names.ordinary.contains(&text)
                    } else {
                        self.names.ordinary.contains(&text)
                    };
                    if rename {
                        text = prefixed(&text);
                    }
                    in_include = t.directive && t.text == "include";
                }
                Kind::Literal if in_include && text.starts_with('<') => {
                    let inner = &text[1..text.len() - 1];
                    if self.uapi.join(inner).is_file() {
                        text = format!("<lkl/{inner}>");
                    } else if let Some((_, also)) =
                        self.libc_additions.iter().find(|(from, _)| *from == inner)
                    {
                        // Keep libc's header; add ours, which defines the
                        // renamed types the header took from libc's.
                        text = format!("{text}\n#include <{also}>");
                    }
                    in_include = false;
                }
                Kind::Space | Kind::Comment => {}
                _ => in_include = false,
            }
            if t.kind != Kind::Space && t.kind != Kind::Comment {
                prev_sig = Some(t.text.as_str());
                if t.directive {
                    line.push(t.text.as_str());
                }
            }
            out.push_str(&text);
        }
        out
    }
}

/// All regular files under `dir`, as paths relative to it, sorted.
pub fn header_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "h") {
                out.push(p.strip_prefix(base).expect("under base").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
