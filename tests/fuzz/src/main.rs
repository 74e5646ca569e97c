// SPDX-License-Identifier: GPL-2.0
//! `make fuzz`: file system images with metadata bytes flipped, each
//! mounted, walked and written by the library kernel in a process of its
//! own, counted by how the kernel took them.
//!
//! The parent makes the seed images (mkfs, then the seed tree written
//! through the library), finds their metadata sectors, and for every case
//! derives 1 to 16 byte changes from the run's seed, the image's name and
//! the case number. A child process (this program again) boots a kernel,
//! adds the seed image with the changes as a copy-on-write disk, mounts,
//! walks and writes, unmounts and halts. The parent classifies the child:
//!
//! - mounted: the mount worked, whatever errors the walk met;
//! - refused: the mount failed (the errno is in the verbose output);
//! - panicked: the kernel panicked (a `BUG()` panics too): the host
//!   library printed `lkl: kernel panic: <reason>` and aborted;
//! - oops: the child died of a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE),
//!   which is how a bad kernel memory access ends in library mode; the
//!   child's handler printed the address, which addr2line names;
//! - hung: no exit within the time limit (30 s): killed;
//! - crashed: any other death or a harness error (boot, halt): a failure.
//!
//! A panic or an oops ends the child with a message naming the image and
//! the case; they are findings in the kernel's file system code and are
//! reported with a reproducer but do not fail the run (`--strict` makes
//! them fail). A hang or a crash without a message fails the run.

mod child;
mod mutate;
mod overlay;
mod seed;

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use mutate::{case_seed, parse_mutations, MetadataMap, Mutation, MutationList, Rng};
use seed::Recipe;

const DEFAULT_CASES: u64 = 200;
const DEFAULT_SEED: u64 = 0x6c6b_6c66_757a_7a00;
const DEFAULT_TIMEOUT_SECS: u64 = 30;

const USAGE: &str = "\
usage: lkl-fuzz [options]

Mounts and walks file system images with metadata bytes flipped, each in a
process of its own, and counts them: mounted, refused, panicked, oops,
hung, crashed. Exits 1 if any case hung or crashed (with --strict, also if
one panicked or oopsed), 2 for bad usage.

  --fs LIST         file systems, comma-separated (default ext4,btrfs,xfs,vfat)
  --cases N         cases per file system (default 200, or $FUZZ_CASES)
  --case N          run only case N (of each --fs), showing everything
  --seed S          the run's seed, decimal or 0x-hex (default 0x6c6b6c66757a7a00,
                    or $FUZZ_SEED)
  --jobs N          cases run at once (default 2)
  --timeout SECS    a case that runs longer is hung (default 30)
  --out DIR         seeds, logs and reproducers (default build/fuzz)
  --fresh-seeds     remake the seed images even if cached ones match
  --replay IMAGE    run one case on IMAGE as it is (a saved reproducer);
                    needs --fs with one file system
  --strict          a panic or an oops fails the run
  -v, --verbose     one line per case
  -h, --help        this text
";

struct Options {
    file_systems: Vec<String>,
    cases: u64,
    only_case: Option<u64>,
    seed: u64,
    jobs: usize,
    timeout: Duration,
    out: PathBuf,
    fresh_seeds: bool,
    replay: Option<PathBuf>,
    strict: bool,
    verbose: bool,
}

fn parse_number(what: &str, text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("{what} {text:?}: {e}"))
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let env_number = |name: &str| -> Result<Option<u64>, String> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => parse_number(&format!("${name}"), &v).map(Some),
            _ => Ok(None),
        }
    };
    let mut o = Options {
        file_systems: seed::FILE_SYSTEMS.iter().map(|s| s.to_string()).collect(),
        cases: env_number("FUZZ_CASES")?.unwrap_or(DEFAULT_CASES),
        only_case: None,
        seed: env_number("FUZZ_SEED")?.unwrap_or(DEFAULT_SEED),
        jobs: 2,
        timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        out: PathBuf::from("build/fuzz"),
        fresh_seeds: false,
        replay: None,
        strict: false,
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--fs" => {
                let list = value("--fs")?;
                o.file_systems = list.split(',').map(str::to_owned).collect();
                for fs in &o.file_systems {
                    if seed::recipes_for(fs).is_empty() {
                        return Err(format!(
                            "--fs {fs}: not one of {}",
                            seed::FILE_SYSTEMS.join(", ")
                        ));
                    }
                }
            }
            "--cases" => o.cases = parse_number("--cases", &value("--cases")?)?,
            "--case" => o.only_case = Some(parse_number("--case", &value("--case")?)?),
            "--seed" => o.seed = parse_number("--seed", &value("--seed")?)?,
            "--jobs" => {
                o.jobs = parse_number("--jobs", &value("--jobs")?)?.clamp(1, 64) as usize;
            }
            "--timeout" => {
                o.timeout = Duration::from_secs(parse_number("--timeout", &value("--timeout")?)?);
            }
            "--out" => o.out = PathBuf::from(value("--out")?),
            "--fresh-seeds" => o.fresh_seeds = true,
            "--replay" => o.replay = Some(PathBuf::from(value("--replay")?)),
            "--strict" => o.strict = true,
            "-v" | "--verbose" => o.verbose = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(image) = &o.replay {
        if o.file_systems.len() != 1 {
            return Err("--replay needs --fs with exactly one file system".into());
        }
        if !image.is_file() {
            return Err(format!("--replay {}: no such image file", image.display()));
        }
    }
    Ok(o)
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Mounted,
    Refused,
    Panicked,
    Oops,
    Hung,
    Crashed,
}

impl Class {
    fn word(self) -> &'static str {
        match self {
            Class::Mounted => "mounted",
            Class::Refused => "refused",
            Class::Panicked => "kernel panic",
            Class::Oops => "kernel oops",
            Class::Hung => "hung",
            Class::Crashed => "crashed",
        }
    }
}

/// One case to run: which image, which changes, and how to name it.
struct Case {
    fs: String,
    number: u64,
    recipe: &'static Recipe,
    image: PathBuf,
    mutations: Vec<Mutation>,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{} case {} (seed image {})",
            self.fs, self.number, self.recipe.name
        )
    }

    fn file_stem(&self) -> String {
        format!("{}-case{}", self.fs, self.number)
    }
}

struct Verdict {
    class: Class,
    /// The child's result line, or what went wrong.
    detail: String,
    warned: bool,
    elapsed: Duration,
}

struct Running {
    case: Case,
    child: Child,
    started: Instant,
    out_log: PathBuf,
    err_log: PathBuf,
}

fn spawn(case: Case, logs: &Path) -> Result<Running, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let out_log = logs.join(format!("{}.out", case.file_stem()));
    let err_log = logs.join(format!("{}.log", case.file_stem()));
    let open = |p: &Path| fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let child = Command::new(exe)
        .args(["--child", "case", "--fs", case.recipe.fstype, "--image"])
        .arg(&case.image)
        .args(["--mutations", &MutationList(&case.mutations).to_string()])
        .args(["--name", &case.label()])
        .stdin(Stdio::null())
        .stdout(open(&out_log)?)
        .stderr(open(&err_log)?)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", case.label()))?;
    Ok(Running {
        case,
        child,
        started: Instant::now(),
        out_log,
        err_log,
    })
}

/// The function at `offset` in our executable, by addr2line, if it can.
fn function_at(offset: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new("addr2line")
        .args(["-f", "-C", "-e"])
        .arg(exe)
        .arg(offset)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let name = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_owned();
    (!name.is_empty() && name != "??").then_some(name)
}

fn classify(status: Option<std::process::ExitStatus>, out: &str, err: &str) -> (Class, String) {
    use std::os::unix::process::ExitStatusExt;
    let Some(status) = status else {
        return (Class::Hung, "no exit within the time limit: killed".into());
    };
    if let Some(line) = err.lines().find(|l| l.starts_with("lkl: kernel panic:")) {
        let bug = err
            .lines()
            .find(|l| l.contains("BUG:") || l.contains("kernel BUG"))
            .map(|l| format!(" after \"{}\"", l.trim()))
            .unwrap_or_default();
        return (Class::Panicked, format!("{}{bug}", line.trim()));
    }
    if let Some(line) = err.lines().find(|l| l.starts_with(child::FAULT_MARK)) {
        let function = line
            .split("(exe+")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(function_at)
            .map(|f| format!(" in {f}"))
            .unwrap_or_default();
        return (Class::Oops, format!("{}{function}", line.trim()));
    }
    let result = out.lines().find_map(|l| l.strip_prefix("RESULT "));
    match (status.success(), result) {
        (true, Some(r)) if r.starts_with("mounted") => (Class::Mounted, r.to_owned()),
        (true, Some(r)) if r.starts_with("refused") => (Class::Refused, r.to_owned()),
        _ => {
            let how = match status.signal() {
                Some(sig) => format!("killed by signal {sig} without a panic or fault message"),
                None => format!("exited with {status}"),
            };
            let last = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("(no output)");
            (
                Class::Crashed,
                format!("{how}; last output: {}", last.trim()),
            )
        }
    }
}

fn finish(mut run: Running, status: Option<std::process::ExitStatus>) -> (Case, Verdict) {
    let elapsed = run.started.elapsed();
    if status.is_none() {
        let _ = run.child.kill();
        let _ = run.child.wait();
    }
    let out = fs::read_to_string(&run.out_log).unwrap_or_default();
    let err = String::from_utf8_lossy(&fs::read(&run.err_log).unwrap_or_default()).into_owned();
    let (class, detail) = classify(status, &out, &err);
    let verdict = Verdict {
        class,
        detail,
        warned: err.contains("WARNING:"),
        elapsed,
    };
    (run.case, verdict)
}

/// The seed with the case's changes, as a sparse file, for a bug report.
fn write_mutated_image(case: &Case, to: &Path) -> std::io::Result<()> {
    let mut src = fs::File::open(&case.image)?;
    let mut dst = fs::File::create(to)?;
    let size = src.seek(SeekFrom::End(0))?;
    src.seek(SeekFrom::Start(0))?;
    dst.set_len(size)?;
    let mut chunk = vec![0u8; 1 << 16];
    let mut at = 0u64;
    while at < size {
        let len = chunk.len().min((size - at) as usize);
        src.read_exact(&mut chunk[..len])?;
        for m in &case.mutations {
            if (at..at + len as u64).contains(&m.offset) {
                chunk[(m.offset - at) as usize] = m.value;
            }
        }
        if chunk[..len].iter().any(|&b| b != 0) {
            dst.seek(SeekFrom::Start(at))?;
            dst.write_all(&chunk[..len])?;
        }
        at += len as u64;
    }
    Ok(())
}

/// Keeps the mutated image, the console log and how to rerun the case.
fn save_reproducer(o: &Options, run_log: &Path, case: &Case, verdict: &Verdict) -> String {
    let dir = o.out.join("repro");
    let stem = case.file_stem();
    let image = dir.join(format!("{stem}.img"));
    let log = dir.join(format!("{stem}.log"));
    let note = dir.join(format!("{stem}.txt"));
    let saved = fs::create_dir_all(&dir)
        .and_then(|()| write_mutated_image(case, &image))
        .and_then(|()| fs::copy(run_log, &log).map(drop))
        .and_then(|()| {
            fs::write(
                &note,
                format!(
                    "{}: {}: {}\nmutations (offset=byte): {}\nrerun: lkl-fuzz --fs {} --case {} --seed {:#x} --out {}\nor: lkl-fuzz --fs {} --replay {}\n",
                    case.label(),
                    verdict.class.word(),
                    verdict.detail,
                    MutationList(&case.mutations),
                    case.recipe.fstype,
                    case.number,
                    o.seed,
                    o.out.display(),
                    case.recipe.fstype,
                    image.display()
                ),
            )
        });
    match saved {
        Ok(()) => format!("reproducer in {}", note.display()),
        Err(e) => format!("saving the reproducer in {} failed: {e}", dir.display()),
    }
}

#[derive(Default)]
struct Counts {
    total: u64,
    by_class: [u64; 6],
    warned: u64,
    slowest: Duration,
}

impl Counts {
    fn add(&mut self, v: &Verdict) {
        self.total += 1;
        self.by_class[v.class as usize] += 1;
        self.warned += u64::from(v.warned);
        self.slowest = self.slowest.max(v.elapsed);
    }

    fn get(&self, class: Class) -> u64 {
        self.by_class[class as usize]
    }

    fn line(&self) -> String {
        format!(
            "{} cases: mounted {}, refused {}, panicked {}, oops {}, hung {}, crashed {} (kernel WARNINGs in {}; slowest case {:.2} s)",
            self.total,
            self.get(Class::Mounted),
            self.get(Class::Refused),
            self.get(Class::Panicked),
            self.get(Class::Oops),
            self.get(Class::Hung),
            self.get(Class::Crashed),
            self.warned,
            self.slowest.as_secs_f64()
        )
    }
}

/// The seed image itself must mount and walk without an error: else the
/// tree, the walk or the kernel is wrong, and every count would mislead.
fn control(o: &Options, recipe: &'static Recipe, image: &Path) -> Result<(), String> {
    let logs = o.out.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let case = Case {
        fs: format!("{}-control", recipe.name),
        number: 0,
        recipe,
        image: image.to_owned(),
        mutations: Vec::new(),
    };
    let mut run = spawn(case, &logs)?;
    let status = wait_with_limit(&mut run.child, run.started, o.timeout)?;
    let err_log = run.err_log.clone();
    let (_, verdict) = finish(run, status);
    if verdict.class != Class::Mounted || !verdict.detail.contains(" 0 errors") {
        return Err(format!(
            "the unchanged seed image {} did not mount and walk cleanly: {}: {}; log in {}",
            image.display(),
            verdict.class.word(),
            verdict.detail,
            err_log.display()
        ));
    }
    Ok(())
}

/// The cases of one file system, mutations derived.
fn make_cases(o: &Options, fs_name: &str) -> Result<Vec<Case>, String> {
    let recipes = seed::recipes_for(fs_name);
    let mut seeds = Vec::new();
    for recipe in &recipes {
        let image = seed::ensure(recipe, &o.out.join("seeds"), o.fresh_seeds)
            .map_err(|e| format!("seed image {}: {e}", recipe.name))?;
        let map = MetadataMap::scan(&image).map_err(|e| format!("{}: {e}", image.display()))?;
        if map.len() == 0 {
            return Err(format!("{}: no metadata sectors found", image.display()));
        }
        let file = fs::File::open(&image).map_err(|e| format!("{}: {e}", image.display()))?;
        control(o, recipe, &image)?;
        println!(
            "{fs_name}: seed image {} ({} MiB, {} metadata sectors in {} runs) mounts and walks cleanly",
            image.display(),
            recipe.size_mib,
            map.len(),
            map.runs()
        );
        seeds.push((*recipe, image, map, file));
    }
    let numbers: Vec<u64> = match o.only_case {
        Some(n) => vec![n],
        None => (0..o.cases).collect(),
    };
    numbers
        .into_iter()
        .map(|number| {
            let (recipe, image, map, file) = &seeds[(number % seeds.len() as u64) as usize];
            let mut rng = Rng::new(case_seed(o.seed, recipe.name, number));
            let mut mutations = map
                .mutations(file, &mut rng)
                .map_err(|e| format!("{}: {e}", image.display()))?;
            if recipe.fix_btrfs_checksums {
                mutate::fix_btrfs_checksums(file, &mut mutations)
                    .map_err(|e| format!("{}: {e}", image.display()))?;
            }
            Ok(Case {
                fs: fs_name.to_owned(),
                number,
                recipe,
                image: image.clone(),
                mutations,
            })
        })
        .collect()
}

/// Waits for `child` for up to `limit`; `None` if it is still running.
fn wait_with_limit(
    child: &mut Child,
    started: Instant,
    limit: Duration,
) -> Result<Option<std::process::ExitStatus>, String> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) if started.elapsed() <= limit => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("waiting for a child: {e}")),
        }
    }
}

/// Checks the classification on children that certainly fault and
/// panic: a harness that missed them would count nothing as an oops or a
/// panic, and pass for the wrong reason.
fn self_test(o: &Options) -> Result<(), String> {
    let logs = o.out.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    for (kind, expected, needle) in [
        ("selftest-fault", Class::Oops, "SIGSEGV"),
        ("selftest-panic", Class::Panicked, "lkl-fuzz self-test"),
    ] {
        let out_log = logs.join(format!("{kind}.out"));
        let err_log = logs.join(format!("{kind}.log"));
        let open = |p: &Path| fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let started = Instant::now();
        let mut child = Command::new(&exe)
            .args(["--child", kind])
            .stdin(Stdio::null())
            .stdout(open(&out_log)?)
            .stderr(open(&err_log)?)
            .spawn()
            .map_err(|e| format!("starting the {kind} child: {e}"))?;
        let status = wait_with_limit(&mut child, started, o.timeout)?;
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let out = fs::read_to_string(&out_log).unwrap_or_default();
        let err = String::from_utf8_lossy(&fs::read(&err_log).unwrap_or_default()).into_owned();
        let (class, detail) = classify(status, &out, &err);
        if class != expected || !detail.contains(needle) {
            return Err(format!(
                "self-test {kind}: classified as {} ({detail}), expected {} naming {needle:?}; log in {}",
                class.word(),
                expected.word(),
                err_log.display()
            ));
        }
        if o.verbose {
            println!("self-test {kind}: {}: {detail}", class.word());
        }
        let _ = fs::remove_file(&out_log);
        let _ = fs::remove_file(&err_log);
    }
    Ok(())
}

/// Runs `cases`, `o.jobs` at a time; prints failures as they come.
fn run_cases(o: &Options, cases: Vec<Case>, counts: &mut Counts) -> Result<(), String> {
    let logs = o.out.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut pending = cases.into_iter();
    let mut running: Vec<Running> = Vec::new();
    loop {
        while running.len() < o.jobs {
            match pending.next() {
                Some(case) => running.push(spawn(case, &logs)?),
                None => break,
            }
        }
        if running.is_empty() {
            return Ok(());
        }
        let mut i = 0;
        while i < running.len() {
            let status = running[i]
                .child
                .try_wait()
                .map_err(|e| format!("waiting for {}: {e}", running[i].case.label()))?;
            let timed_out = running[i].started.elapsed() > o.timeout;
            if status.is_none() && !timed_out {
                i += 1;
                continue;
            }
            let run = running.swap_remove(i);
            let (out_log, err_log) = (run.out_log.clone(), run.err_log.clone());
            let (case, verdict) = finish(run, status);
            counts.add(&verdict);
            let failed = !matches!(verdict.class, Class::Mounted | Class::Refused);
            if failed {
                let saved = save_reproducer(o, &err_log, &case, &verdict);
                println!(
                    "{}: {} after {:.2} s: {}; {}",
                    case.label(),
                    verdict.class.word(),
                    verdict.elapsed.as_secs_f64(),
                    verdict.detail,
                    saved
                );
            } else if o.verbose || o.only_case.is_some() || o.replay.is_some() {
                println!(
                    "{}: {} in {:.2} s ({} bytes changed): {}",
                    case.label(),
                    verdict.class.word(),
                    verdict.elapsed.as_secs_f64(),
                    case.mutations.len(),
                    verdict.detail
                );
            }
            if o.only_case.is_some() || o.replay.is_some() {
                println!(
                    "  mutations (offset=byte): {}",
                    MutationList(&case.mutations)
                );
                println!("  console log: {}", err_log.display());
            } else {
                let _ = fs::remove_file(&out_log);
                let _ = fs::remove_file(&err_log);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn parent(o: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let mut all = Counts::default();
    if let Some(image) = &o.replay {
        let fs_name = &o.file_systems[0];
        // Its own name, so that its reproducer does not overwrite the one
        // it replays.
        let case = Case {
            fs: format!("{fs_name}-replay"),
            number: 0,
            recipe: seed::recipes_for(fs_name)[0],
            image: image.clone(),
            mutations: Vec::new(),
        };
        run_cases(o, vec![case], &mut all)?;
    } else {
        self_test(o)?;
        println!(
            "lkl-fuzz: seed {:#x}, {} per file system, {} at a time, time limit {} s",
            o.seed,
            o.only_case.map_or(o.cases, |_| 1),
            o.jobs,
            o.timeout.as_secs()
        );
        for fs_name in &o.file_systems {
            let fs_started = Instant::now();
            let cases = make_cases(o, fs_name)?;
            let mut counts = Counts::default();
            run_cases(o, cases, &mut counts)?;
            println!(
                "{fs_name}: {} in {:.0} s",
                counts.line(),
                fs_started.elapsed().as_secs_f64()
            );
            for (i, n) in counts.by_class.iter().enumerate() {
                all.by_class[i] += n;
            }
            all.total += counts.total;
            all.warned += counts.warned;
            all.slowest = all.slowest.max(counts.slowest);
        }
        println!(
            "all: {} in {:.0} s",
            all.line(),
            started.elapsed().as_secs_f64()
        );
    }
    let mut bad = all.get(Class::Hung) + all.get(Class::Crashed);
    if o.strict {
        bad += all.get(Class::Panicked) + all.get(Class::Oops);
    }
    Ok(bad == 0)
}

/// `--child populate|case ...`: the child's side.
fn child_main(args: &[String]) -> Result<(), String> {
    let mut kind = None;
    let mut fstype = None;
    let mut image = None;
    let mut mutations = Vec::new();
    let mut name = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--child" => kind = Some(value()?),
            "--fs" => fstype = Some(value()?),
            "--image" => image = Some(PathBuf::from(value()?)),
            "--mutations" => mutations = parse_mutations(&value()?)?,
            "--name" => name = Some(value()?),
            other => return Err(format!("child: unknown argument {other:?}")),
        }
    }
    match kind.as_deref() {
        Some("selftest-fault") => return child::selftest_fault(),
        Some("selftest-panic") => return child::selftest_panic(),
        _ => {}
    }
    let fstype = fstype.ok_or("child: --fs missing")?;
    let image = image.ok_or("child: --image missing")?;
    match kind.as_deref() {
        Some("populate") => child::populate(&image, &fstype),
        Some("case") => {
            let name = name.unwrap_or_else(|| image.display().to_string());
            child::run_case(&image, &fstype, &mutations, &name)
        }
        _ => Err("child: --child populate|case".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return match child_main(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lkl-fuzz: error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("lkl-fuzz: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match parent(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!(
                "lkl-fuzz: FAILED: a case hung or crashed without a panic or oops message{}",
                if options.strict {
                    ", or (--strict) one panicked or oopsed"
                } else {
                    ""
                }
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("lkl-fuzz: error: {e}");
            ExitCode::FAILURE
        }
    }
}
