// SPDX-License-Identifier: GPL-2.0
//! Runs test programs that speak TAP13 in LKL's form and sums them up.
//!
//! Usage: `tap13 'prog args' ['prog2 args' ...]`. Each argument is one
//! command (split on whitespace), run with a time limit (`TAP13_TIMEOUT`
//! seconds, default 300). Its output holds one or more plans
//! (`1..N # suite`), each followed by `ok i name`, `ok i name # SKIP` or
//! `not ok i name` lines with a YAML block (` ---` ... ` ...`) holding
//! the test's log. A test of the plan that never reported counts as not
//! ok, as does a command that fails, times out or exits nonzero. Prints
//! the log of every failing test and the line
//! `Summary: N tests, N ok, N not ok, N skipped`; exits 1 on any not ok.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Totals {
    tests: usize,
    ok: usize,
    not_ok: usize,
    skipped: usize,
}

struct Result {
    id: usize,
    name: String,
    ok: bool,
    skip: bool,
    log: Vec<String>,
}

struct Suite {
    name: String,
    plan: usize,
    results: Vec<Result>,
}

/// Parses TAP13 output into suites.
fn parse(output: &str) -> Vec<Suite> {
    let mut suites: Vec<Suite> = Vec::new();
    let mut in_yaml = false;
    for line in output.lines() {
        if in_yaml {
            if line == " ..." {
                in_yaml = false;
            } else if let Some(r) = suites.last_mut().and_then(|s| s.results.last_mut()) {
                r.log.push(line.to_string());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("1..") {
            let (count, name) = rest.split_once('#').unwrap_or((rest, ""));
            suites.push(Suite {
                name: name.trim().to_string(),
                plan: count.trim().parse().unwrap_or(0),
                results: Vec::new(),
            });
            continue;
        }
        if line == " ---" {
            in_yaml = true;
            continue;
        }
        let (ok, rest) = if let Some(r) = line.strip_prefix("ok ") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("not ok ") {
            (false, r)
        } else {
            continue;
        };
        let (id, name) = rest.split_once(' ').unwrap_or((rest, ""));
        let Ok(id) = id.parse() else { continue };
        let (name, directive) = name.split_once(" # ").unwrap_or((name, ""));
        let skip = directive.to_ascii_uppercase().starts_with("SKIP");
        if let Some(suite) = suites.last_mut() {
            suite.results.push(Result {
                id,
                name: name.to_string(),
                ok,
                skip,
                log: Vec::new(),
            });
        }
    }
    suites
}

/// Runs `cmd`, returning its stdout and a failure description if it did
/// not exit with status 0 in time.
fn run(cmd: &str, limit: Duration) -> (String, Option<String>) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some((prog, args)) = words.split_first() else {
        return (String::new(), Some("empty command".into()));
    };
    let mut child = match Command::new(prog)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return (String::new(), Some(format!("cannot run {prog}: {e}"))),
    };
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let out = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let failure = match status {
        None => Some(format!("timed out after {} s", limit.as_secs())),
        Some(s) if s.success() => None,
        Some(s) => Some(format!("exited with {s}")),
    };
    (out, failure)
}

fn main() -> ExitCode {
    let limit = std::env::var("TAP13_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(300), Duration::from_secs);
    let commands: Vec<String> = std::env::args().skip(1).collect();
    if commands.is_empty() {
        eprintln!("usage: tap13 'program args' ...");
        return ExitCode::from(2);
    }
    let mut t = Totals::default();
    for cmd in &commands {
        let (out, failure) = run(cmd, limit);
        let suites = parse(&out);
        // Whether a not ok of this command's suites already counts its failure.
        let mut recorded = false;
        for suite in &suites {
            let mut s = Totals::default();
            for id in 1..=suite.plan {
                s.tests += 1;
                match suite.results.iter().find(|r| r.id == id) {
                    Some(r) if r.skip => s.skipped += 1,
                    Some(r) if r.ok => s.ok += 1,
                    Some(r) => {
                        s.not_ok += 1;
                        println!("not ok {} {} ({}):", r.id, r.name, suite.name);
                        for l in &r.log {
                            println!("    {l}");
                        }
                    }
                    None => {
                        s.not_ok += 1;
                        println!("not ok {id} ({}): test not present", suite.name);
                    }
                }
            }
            println!(
                "SUITE {}: {} tests, {} ok, {} not ok, {} skipped",
                suite.name, s.tests, s.ok, s.not_ok, s.skipped
            );
            recorded |= s.not_ok > 0;
            t.tests += s.tests;
            t.ok += s.ok;
            t.not_ok += s.not_ok;
            t.skipped += s.skipped;
        }
        let why = match failure {
            Some(why) => Some(why),
            None if suites.is_empty() => Some("printed no TAP plan".to_string()),
            None => None,
        };
        if let Some(why) = why {
            // A crash after the last result still fails the run.
            if !recorded {
                t.tests += 1;
                t.not_ok += 1;
            }
            println!("not ok: '{cmd}' {why}");
        }
    }
    println!(
        "Summary: {} tests, {} ok, {} not ok, {} skipped",
        t.tests, t.ok, t.not_ok, t.skipped
    );
    if t.not_ok > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
