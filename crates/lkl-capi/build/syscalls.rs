// SPDX-License-Identifier: GPL-2.0
//! Generates the `lkl_sys_*` functions: their Rust definitions (exported
//! from liblkl.a) and their C prototypes (lkl/asm/syscalls.h), both from
//! one parse of the kernel's `include/linux/syscalls.h`.
//!
//! Which system calls exist, and their numbers, comes from the library
//! build's `asm/unistd_64.h`; the entry point of each (`stat` is
//! `sys_newstat`) from `arch/x86/entry/syscalls/syscall_64.tbl`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use crate::ctok::{significant, tokenize, Kind, Token};
use crate::headers::{prefixed, Names};

/// Prototypes of the x86_64 entry points that `syscalls.h` does not
/// declare (they live in arch/x86), written from their definitions.
const ARCH_PROTOTYPES: &str = "
asmlinkage long sys_rt_sigreturn(void);
asmlinkage long sys_modify_ldt(int func, void __user *ptr, unsigned long bytecount);
asmlinkage long sys_arch_prctl(int option, unsigned long arg2);
asmlinkage long sys_iopl(unsigned int level);
asmlinkage long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot,
                         unsigned long flags, unsigned long fd, unsigned long off);
";

/// LKL's convenience wrappers whose shape differs from the x86_64 system
/// call of the same name: LKL's own signature, as `return-type (params)`.
/// The arguments still go to the system call in order.
const LKL_SHAPES: &[(&str, &str)] = &[
    ("open", "long (const char *, int, int)"),
    ("creat", "long (const char *, int)"),
    ("stat", "int (const char *, struct stat *)"),
    ("lstat", "int (const char *, struct stat *)"),
    ("poll", "long (struct pollfd *, int, int)"),
    (
        "select",
        "long (int, fd_set *, fd_set *, fd_set *, struct timeval *)",
    ),
    ("epoll_wait", "long (int, struct epoll_event *, int, int)"),
    ("mmap", "void *(void *, size_t, int, int, int, off_t)"),
];

/// Words of C base types and qualifiers, never prefixed.
const C_WORDS: &[&str] = &[
    "const",
    "volatile",
    "unsigned",
    "signed",
    "__signed__",
    "char",
    "short",
    "int",
    "long",
    "void",
    "_Bool",
    "struct",
    "union",
    "enum",
];

/// Macros that only annotate a type and expand to nothing.
const ANNOTATIONS: &[&str] = &["__user", "__bitwise", "__force", "__iomem"];

struct Proto {
    active: bool,
    ret: Vec<String>,
    params: Vec<Vec<String>>,
}

/// One parameter or return type, resolved.
struct CType {
    /// The C spelling with LKL's prefixed names.
    c: String,
    /// The Rust FFI type.
    rust: String,
}

pub struct Output {
    pub c_header: String,
    pub rust: String,
}

/// `#define __NR_x N` from unistd_64.h, in table order.
pub fn syscall_numbers(unistd: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for line in unistd.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("#define") {
            continue;
        }
        let (Some(name), Some(nr)) = (w.next(), w.next()) else {
            continue;
        };
        if let (Some(name), Ok(nr)) = (name.strip_prefix("__NR_"), nr.parse()) {
            out.push((name.to_string(), nr));
        }
    }
    out
}

/// name -> entry point, for the 64-bit ABI (`common` and `64`).
pub fn entry_points(tbl: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in tbl.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() >= 4 && !w[0].starts_with('#') && (w[1] == "common" || w[1] == "64") {
            let entry = w[3].trim_start_matches("__x64_");
            out.insert(w[2].to_string(), entry.to_string());
        }
    }
    out
}

/// A tiny evaluator for the conditions in syscalls.h: `defined(X)`,
/// `defined X`, `!`, `&&`, `||`, parentheses, integers and `==`/`!=`.
struct Cond<'a> {
    toks: Vec<String>,
    pos: usize,
    defined: &'a HashSet<String>,
    values: &'a HashMap<&'static str, i64>,
}

impl Cond<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> i64 {
        let mut v = self.and();
        while self.peek() == Some("|") {
            self.pos += 2;
            let r = self.and();
            v = i64::from(v != 0 || r != 0);
        }
        v
    }
    fn and(&mut self) -> i64 {
        let mut v = self.eq();
        while self.peek() == Some("&") {
            self.pos += 2;
            let r = self.eq();
            v = i64::from(v != 0 && r != 0);
        }
        v
    }
    fn eq(&mut self) -> i64 {
        let v = self.unary();
        match (self.peek(), self.toks.get(self.pos + 1).map(String::as_str)) {
            (Some("="), Some("=")) => {
                self.pos += 2;
                i64::from(v == self.unary())
            }
            (Some("!"), Some("=")) => {
                self.pos += 2;
                i64::from(v != self.unary())
            }
            _ => v,
        }
    }
    fn unary(&mut self) -> i64 {
        match self.next().as_deref() {
            Some("!") => i64::from(self.unary() == 0),
            Some("(") => {
                let v = self.or();
                self.pos += 1;
                v
            }
            Some("defined") => {
                let paren = self.peek() == Some("(");
                if paren {
                    self.pos += 1;
                }
                let name = self.next().unwrap_or_default();
                if paren {
                    self.pos += 1;
                }
                i64::from(self.defined.contains(&name))
            }
            Some(t) => t
                .parse()
                .ok()
                .or_else(|| self.values.get(t).copied())
                .unwrap_or(0),
            None => 0,
        }
    }
}

/// Every `asmlinkage long sys_*(...);` of `src`, noting whether it sits
/// under conditions that hold for this build.
fn prototypes(src: &str, defined: &HashSet<String>) -> BTreeMap<String, Vec<Proto>> {
    let values: HashMap<&'static str, i64> = [("BITS_PER_LONG", 64)].into();
    let tokens = tokenize(src);
    // Stack of (this branch taken, some branch of this #if taken).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut out: BTreeMap<String, Vec<Proto>> = BTreeMap::new();
    let mut code: Vec<(Token, bool)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].directive {
            let mut line = Vec::new();
            while i < tokens.len() && tokens[i].directive {
                line.push(tokens[i].clone());
                i += 1;
            }
            let sig: Vec<String> = significant(&line).into_iter().map(|t| t.text).collect();
            let word = sig.get(1).map(String::as_str).unwrap_or("");
            let eval = |from: usize| {
                let mut c = Cond {
                    toks: sig[from..].to_vec(),
                    pos: 0,
                    defined,
                    values: &values,
                };
                c.or() != 0
            };
            match word {
                "ifdef" => {
                    let v = sig.get(2).is_some_and(|n| defined.contains(n));
                    stack.push((v, v));
                }
                "ifndef" => {
                    let v = !sig.get(2).is_some_and(|n| defined.contains(n));
                    stack.push((v, v));
                }
                "if" => {
                    let v = eval(2);
                    stack.push((v, v));
                }
                "elif" => {
                    let v = eval(2);
                    if let Some(top) = stack.last_mut() {
                        top.0 = !top.1 && v;
                        top.1 |= v;
                    }
                }
                "else" => {
                    if let Some(top) = stack.last_mut() {
                        top.0 = !top.1;
                        top.1 = true;
                    }
                }
                "endif" => {
                    stack.pop();
                }
                _ => {}
            }
            continue;
        }
        let t = &tokens[i];
        if t.kind != Kind::Space && t.kind != Kind::Comment {
            code.push((t.clone(), stack.iter().all(|s| s.0)));
        }
        i += 1;
    }
    let mut k = 0;
    while k + 3 < code.len() {
        if code[k].0.text == "asmlinkage" {
            let start = k + 1;
            let Some(open) = (start..code.len()).find(|&j| code[j].0.text == "(") else {
                break;
            };
            let name = code[open - 1].0.text.clone();
            let ret: Vec<String> = code[start..open - 1]
                .iter()
                .map(|t| t.0.text.clone())
                .collect();
            let mut depth = 0;
            let mut params: Vec<Vec<String>> = vec![Vec::new()];
            let mut j = open + 1;
            while j < code.len() {
                let tx = code[j].0.text.as_str();
                match tx {
                    "(" => depth += 1,
                    ")" if depth == 0 => break,
                    ")" => depth -= 1,
                    "," if depth == 0 => {
                        params.push(Vec::new());
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
                if let Some(p) = params.last_mut() {
                    p.push(tx.to_string());
                }
                j += 1;
            }
            if params.len() == 1 && (params[0].is_empty() || params[0] == ["void"]) {
                params.clear();
            }
            if name.starts_with("sys_") {
                out.entry(name).or_default().push(Proto {
                    active: code[k].1,
                    ret,
                    params,
                });
            }
            k = j;
        }
        k += 1;
    }
    out
}

/// Simple typedefs (`typedef <type> name;`) of the headers: name -> type.
pub fn typedefs(src: &str, into: &mut HashMap<String, Vec<String>>) {
    let code: Vec<Token> = significant(&tokenize(src))
        .into_iter()
        .filter(|t| !t.directive)
        .collect();
    let mut i = 0;
    while i < code.len() {
        if code[i].text == "typedef" {
            let mut j = i + 1;
            let mut toks = Vec::new();
            let mut simple = true;
            let mut depth = 0;
            while j < code.len() && !(depth == 0 && code[j].text == ";") {
                match code[j].text.as_str() {
                    "{" => {
                        depth += 1;
                        simple = false;
                    }
                    "}" => depth -= 1,
                    "(" | "[" | "," => simple = false,
                    _ => {}
                }
                toks.push(code[j].text.clone());
                j += 1;
            }
            if simple && toks.len() >= 2 {
                let name = toks.pop().unwrap_or_default();
                into.insert(name, toks);
            } else if !simple && toks.len() >= 2 {
                // `typedef struct x {...} name;`: a struct type.
                let name = toks.last().cloned().unwrap_or_default();
                if toks.first().is_some_and(|t| t == "struct" || t == "union") {
                    let close = toks.iter().rposition(|t| t == "}").unwrap_or(0);
                    let mut def = vec!["struct".to_string(), "__opaque".to_string()];
                    if toks[close..].iter().any(|t| t == "*") {
                        def.push("*".into());
                    }
                    into.insert(name, def);
                }
            }
            i = j;
        }
        i += 1;
    }
}

struct Resolver<'a> {
    uapi: &'a Names,
    extra: &'a Names,
    typedefs: &'a HashMap<String, Vec<String>>,
    forward: BTreeSet<String>,
}

impl Resolver<'_> {
    /// The Rust type of a non-pointer C type given by its words.
    fn rust_scalar(&self, words: &[String], context: &str) -> String {
        assert!(context.len() < 2000, "typedef loop: {context}");
        let w: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| *w != "const" && *w != "volatile" && !ANNOTATIONS.contains(w))
            .collect();
        if w.contains(&"*") {
            return "*mut c_void".into();
        }
        if let Some(pos) = w.iter().position(|x| *x == "struct" || *x == "union") {
            panic!("{context}: struct passed by value ({:?})", &w[pos..]);
        }
        if w.first() == Some(&"enum") {
            return "c_uint".into();
        }
        if let Some(name) = w.iter().find(|x| !C_WORDS.contains(x)) {
            let Some(def) = self.typedefs.get(*name) else {
                panic!("{context}: unknown type {name}");
            };
            assert!(
                !def.iter().any(|d| d == name),
                "{context}: typedef {name} refers to itself ({def:?})"
            );
            return self.rust_scalar(def, &format!("{context} -> {name}"));
        }
        let unsigned = w.contains(&"unsigned");
        let longs = w.iter().filter(|x| **x == "long").count();
        let t = if w.contains(&"char") {
            if unsigned {
                "c_uchar"
            } else if w.contains(&"signed") || w.contains(&"__signed__") {
                "c_schar"
            } else {
                "c_char"
            }
        } else if w.contains(&"short") {
            if unsigned {
                "c_ushort"
            } else {
                "c_short"
            }
        } else if longs == 2 {
            if unsigned {
                "c_ulonglong"
            } else {
                "c_longlong"
            }
        } else if longs == 1 {
            if unsigned {
                "c_ulong"
            } else {
                "c_long"
            }
        } else if w.contains(&"void") {
            "()"
        } else if unsigned {
            "c_uint"
        } else {
            "c_int"
        };
        t.to_string()
    }

    fn resolve(&mut self, words: &[String], context: &str) -> CType {
        let words: Vec<String> = words
            .iter()
            .filter(|w| !ANNOTATIONS.contains(&w.as_str()))
            .cloned()
            .collect();
        let mut c = String::new();
        let mut prev = "";
        for w in &words {
            let piece = if matches!(prev, "struct" | "union" | "enum") {
                // Declared up front, so that a tag whose header is not
                // included still names one type in every prototype.
                if prev != "enum" {
                    self.forward.insert(format!("{prev} {}", prefixed(w)));
                } else if !self.uapi.tags.contains(w) {
                    panic!("{context}: enum {w} is defined by no exported header");
                }
                prefixed(w)
            } else if C_WORDS.contains(&w.as_str()) || w == "*" {
                w.clone()
            } else if self.uapi.ordinary.contains(w) || self.extra.ordinary.contains(w) {
                prefixed(w)
            } else {
                panic!("{context}: type {w} is defined by no exported header");
            };
            if !(c.is_empty() || piece == "*" && c.ends_with('*')) {
                c.push(' ');
            }
            c.push_str(&piece);
            prev = w;
        }
        let c = c.replace("* *", "**");
        let stars = words.iter().filter(|w| *w == "*").count();
        let rust = if stars > 0 {
            let base: Vec<String> = words.iter().take_while(|w| *w != "*").cloned().collect();
            if base.iter().any(|w| w == "const") && stars == 1 {
                "*const c_void".to_string()
            } else {
                "*mut c_void".to_string()
            }
        } else {
            self.rust_scalar(&words, context)
        };
        CType { c, rust }
    }
}

/// Drops a trailing parameter name: the last word, when it is an
/// identifier that is neither a C word nor preceded by a tag keyword.
fn type_words(param: &[String]) -> Vec<String> {
    let words: Vec<String> = param
        .iter()
        .filter(|w| !ANNOTATIONS.contains(&w.as_str()))
        .cloned()
        .collect();
    if words.len() >= 2 {
        let last = &words[words.len() - 1];
        let before = &words[words.len() - 2];
        let is_ident = last.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic());
        if is_ident
            && !C_WORDS.contains(&last.as_str())
            && !matches!(before.as_str(), "struct" | "union" | "enum")
        {
            return words[..words.len() - 1].to_vec();
        }
    }
    words
}

/// Splits `ret (params)` of an LKL shape.
fn parse_shape(shape: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let open = shape.find('(').expect("shape has parameters");
    let words = |s: &str| -> Vec<String> {
        significant(&tokenize(s))
            .into_iter()
            .map(|t| t.text)
            .collect()
    };
    let ret = words(&shape[..open]);
    let inner = shape[open + 1..shape.rfind(')').expect("closing parenthesis")].to_string();
    let params = inner
        .split(',')
        .map(words)
        .filter(|p| !p.is_empty())
        .collect();
    (ret, params)
}

#[allow(clippy::too_many_arguments)]
pub fn generate(
    numbers: &[(String, u32)],
    entries: &HashMap<String, String>,
    syscalls_h: &str,
    config_defined: &HashSet<String>,
    uapi: &Names,
    extra: &Names,
    typedef_map: &HashMap<String, Vec<String>>,
) -> Output {
    let mut protos = prototypes(syscalls_h, config_defined);
    for (name, list) in prototypes(ARCH_PROTOTYPES, config_defined) {
        protos.entry(name).or_insert(list);
    }
    let shapes: HashMap<&str, &str> = LKL_SHAPES.iter().copied().collect();
    let mut r = Resolver {
        uapi,
        extra,
        typedefs: typedef_map,
        forward: BTreeSet::new(),
    };
    let mut c_protos = String::new();
    let mut rust = String::new();
    for (name, nr) in numbers {
        // Numbers the table keeps without an entry point (create_module,
        // tuxcall, ...) are not system calls of this kernel.
        let Some(entry) = entries.get(name).cloned() else {
            continue;
        };
        let context = format!("lkl_sys_{name} ({entry})");
        let (ret, params) = if let Some(shape) = shapes.get(name.as_str()) {
            parse_shape(shape)
        } else {
            let list = protos
                .get(&entry)
                .unwrap_or_else(|| panic!("{context}: no prototype in syscalls.h"));
            let p = list.iter().find(|p| p.active).unwrap_or(&list[0]);
            (p.ret.clone(), p.params.clone())
        };
        let ret = r.resolve(&ret, &context);
        let params: Vec<CType> = params
            .iter()
            .map(|p| r.resolve(&type_words(p), &context))
            .collect();
        assert!(params.len() <= 6, "{context}: more than six parameters");
        let c_params = if params.is_empty() {
            "void".to_string()
        } else {
            params
                .iter()
                .map(|p| p.c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sep = if ret.c.ends_with('*') { "" } else { " " };
        writeln!(c_protos, "{}{sep}lkl_sys_{name}({c_params});", ret.c).unwrap();

        let args: Vec<String> = (0..params.len())
            .map(|i| format!("a{i}: {}", params[i].rust))
            .collect();
        let mut values: Vec<String> = (0..params.len())
            .map(|i| format!("a{i} as c_long"))
            .collect();
        values.resize(6, "0".into());
        let call = format!("unsafe {{ lkl_sys::lkl_syscall({nr}, params.as_mut_ptr()) }}");
        let body = if ret.rust == "c_long" {
            format!("    {call}\n")
        } else {
            format!("    let ret = {call};\n    ret as {}\n", ret.rust)
        };
        writeln!(
            rust,
            "/// The `{name}` system call (number {nr}, `{entry}`).\n\
             #[no_mangle]\n\
             pub unsafe extern \"C\" fn lkl_sys_{name}({}) -> {} {{\n    \
             let mut params: [c_long; 6] = [{}];\n    \
             // SAFETY: `params` holds six arguments; the kernel checks the\n    \
             // caller's pointers (bad ones give -EFAULT).\n{body}}}\n",
            args.join(", "),
            ret.rust,
            values.join(", "),
        )
        .unwrap();
    }
    let mut c_header = String::new();
    for f in &r.forward {
        writeln!(c_header, "{f};").unwrap();
    }
    c_header.push('\n');
    c_header.push_str(&c_protos);
    Output { c_header, rust }
}
