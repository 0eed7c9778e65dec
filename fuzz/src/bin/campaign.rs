//! Long fuzzing campaigns (see DEVELOPMENT.md):
//!
//! * `differential SEEDS PROGRAMS`: for each seed in `SEEDS` (`1..100`), build `PROGRAMS`
//!   random programs and check them against dual numbers, in debug and (with `--release`)
//!   in release too, comparing the digests of every bit the two builds produced;
//! * `show SEED NAME [PROGRAMS]`: print program `NAME` (`p519`) of seed `SEED`'s batch, and
//!   the helpers it calls, to triage a mismatch;
//! * `teeth PROGRAMS`: plant each known-wrong rule (`grad-macro/src/engine/plant.rs`) and
//!   show that the check catches it;
//! * `panics SECONDS [SEED]`: feed the macro's engine, in-process, random and mutated
//!   functions and attributes for that long (another `SEED`, other inputs), and report every
//!   panic and the CPU time spent;
//! * `scale [MAX_BUILT_OPS]`: expand straight-line and loop-heavy functions of 100 to 10 000
//!   operations in-process, and build those up to `MAX_BUILT_OPS` with `rustc -O` with and
//!   without their derivatives: time and size against size.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../grad-macro/src/engine/mod.rs"]
#[allow(dead_code, clippy::all, clippy::pedantic)]
mod engine;

use grad_fuzz::program::{self, Rng};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "differential" => differential(arg(1), arg(2), args.iter().any(|a| a == "--release")),
        "show" => show(
            arg(1).parse().unwrap_or(1),
            arg(2),
            arg(3).parse().unwrap_or(1000),
        ),
        "teeth" => teeth(arg(1), arg(2)),
        "shapes" => shapes(arg(1).parse().unwrap_or(1), arg(2).parse().unwrap_or(1000)),
        "panics" => panics(arg(1).parse().unwrap_or(60), arg(2).parse().unwrap_or(0)),
        "scale" => scale(arg(1).parse().unwrap_or(usize::MAX)),
        _ => {
            eprintln!(
                "usage: campaign differential FIRST..LAST PROGRAMS [--release] | show SEED NAME [PROGRAMS] | shapes SEED PROGRAMS | teeth PROGRAMS [BUG] | panics SECONDS [SEED] | scale [MAX_BUILT_OPS]"
            );
            std::process::exit(2);
        }
    }
}

/// One run of the differential test; its summary line.
struct Run {
    programs: usize,
    comparisons: usize,
    mismatches: usize,
    skipped: usize,
    singular: usize,
    documented: usize,
    cancelled: usize,
    digest: String,
    failures: Vec<String>,
}

fn run(seed: u64, programs: &str, release: bool, plant: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["test", "-q", "-p", "grad-fuzz", "--test", "differential"])
        .env("GRAD_FUZZ_SEED", seed.to_string())
        .env("GRAD_FUZZ_PROGRAMS", programs);
    if release {
        cmd.arg("--release");
    }
    if let Some(bug) = plant {
        cmd.args(["--features", "plant-bugs"])
            .env("GRAD_PLANT", bug);
    } else {
        cmd.env_remove("GRAD_PLANT");
    }
    cmd.args(["--", "--nocapture"]);
    let output = cmd.output().expect("cargo runs");
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let summary = text
        .lines()
        .find(|l| l.contains(" programs, "))
        .unwrap_or_default();
    let number = |label: &str| -> usize {
        summary
            .split(", ")
            .find(|part| part.contains(label))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let failures = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(": "))
        .map(str::to_owned)
        .collect();
    if summary.is_empty() {
        eprintln!("seed {seed}: no summary; the build failed:\n{text}");
    }
    Run {
        programs: summary
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        comparisons: number("comparisons"),
        mismatches: number("mismatches"),
        skipped: number("skipped"),
        singular: number("through infinity"),
        documented: number("as documented"),
        cancelled: number("within cancellation"),
        digest: summary.rsplit(' ').next().unwrap_or_default().to_owned(),
        failures,
    }
}

fn differential(seeds: &str, programs: &str, release: bool) {
    let (first, last) = seeds
        .split_once("..")
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        .unwrap_or((1, 10));
    let start = Instant::now();
    let (mut total, mut comparisons, mut mismatches, mut skipped) = (0, 0, 0, 0);
    let (mut singular, mut documented, mut cancelled, mut differ) = (0, 0, 0, 0);
    for seed in first..last {
        let debug = run(seed, programs, false, None);
        total += debug.programs;
        comparisons += debug.comparisons;
        mismatches += debug.mismatches + usize::from(debug.programs == 0);
        skipped += debug.skipped;
        singular += debug.singular;
        documented += debug.documented;
        cancelled += debug.cancelled;
        for f in &debug.failures {
            println!("seed {seed}: {f}");
        }
        let mut line = format!(
            "seed {seed}: {} programs, {} comparisons, {} mismatches, {} skipped, {} through \
             infinity, {} NaN as documented, {} within cancellation, digest {}",
            debug.programs,
            debug.comparisons,
            debug.mismatches,
            debug.skipped,
            debug.singular,
            debug.documented,
            debug.cancelled,
            debug.digest
        );
        if release {
            let optimized = run(seed, programs, true, None);
            let same = optimized.digest == debug.digest && !debug.digest.is_empty();
            differ += usize::from(!same);
            line += if same {
                ", release: same bits"
            } else {
                ", release: DIFFERENT BITS"
            };
        }
        println!("{line} ({:.0?} so far)", start.elapsed());
    }
    println!(
        "total: {total} programs, {comparisons} comparisons, {mismatches} mismatches, {skipped} \
         skipped (oracle off the path), {singular} through infinity, {documented} NaN as documented, \
         {cancelled} within cancellation{}, in {:.0?}",
        if release {
            format!(", {differ} seeds whose release bits differ")
        } else {
            String::new()
        },
        start.elapsed()
    );
    // A campaign that found something fails, so that a script (or CI) cannot miss it.
    if mismatches > 0 || differ > 0 {
        std::process::exit(1);
    }
}

/// How many of `count` programs of `seed` have each tracked shape ([`program::SHAPES`]);
/// fails if one has none.
fn shapes(seed: u64, count: usize) {
    let programs = program::programs(seed, count, "");
    let programs = &programs[program::HELPERS..];
    let mut missing = 0;
    for &shape in program::SHAPES {
        let n = programs.iter().filter(|p| p.tags.contains(shape)).count();
        missing += usize::from(n == 0);
        println!("{n:>6}  {shape}");
    }
    println!("in {} programs of seed {seed}", programs.len());
    if missing > 0 {
        std::process::exit(1);
    }
}

fn show(seed: u64, name: &str, count: usize) {
    let programs = program::programs(seed, count, "");
    let Some(target) = programs.iter().find(|p| p.name == name) else {
        eprintln!("seed {seed} has no program {name} among {count}");
        std::process::exit(2);
    };
    if target.shape.consts {
        println!("{}", program::PRELUDE);
    }
    for helper in programs.iter().take(program::HELPERS) {
        if target.calls(&helper.name) {
            println!("{}", helper.items);
        }
    }
    println!("{}", target.items);
}

fn teeth(programs: &str, only: &str) {
    let programs = if programs.is_empty() { "300" } else { programs };
    let mut missed = 0;
    for bug in ["sign-flip", "fan-out", "loop-order", "ties", "loop-carried"] {
        if !only.is_empty() && bug != only {
            continue;
        }
        let r = run(1, programs, false, Some(bug));
        missed += usize::from(r.mismatches == 0);
        println!(
            "planted {bug}: {} programs, {} mismatches{}",
            r.programs,
            r.mismatches,
            if r.mismatches > 0 {
                " — caught"
            } else {
                " — NOT CAUGHT"
            }
        );
    }
    // A planted bug the check does not catch is a hole in the check: fail.
    if missed > 0 {
        std::process::exit(1);
    }
}

/// Tokens a mutation may insert.
const VOCABULARY: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    ".",
    "..",
    "..=",
    "=",
    "+=",
    "*=",
    "-",
    "+",
    "*",
    "/",
    "%",
    "&",
    "&&",
    "||",
    "!",
    "<",
    ">",
    "==",
    "let",
    "mut",
    "for",
    "in",
    "if",
    "else",
    "match",
    "=>",
    "_",
    "return",
    "break",
    "continue",
    "loop",
    "while",
    "as",
    "f64",
    "f32",
    "usize",
    "i32",
    "x0",
    "x1",
    "n",
    "w",
    "0",
    "1",
    "2.5",
    "-1.0",
    "1e300",
    "'a:",
    "|v|",
    "grad::no_grad",
    "vec![0.0; 3]",
    "[0.0; 4]",
    ".sum::<f64>()",
    ".iter()",
    ".len()",
    ".powi(2)",
    ".sqrt()",
    ".max",
    "r#type",
    "self",
    "unsafe",
    "async",
    "?",
    "::",
    "T",
    "<T: grad::Real>",
    "#[inline]",
    "println!(\"{}\", x0);",
    "&mut",
    "'static",
    "0..n",
];

/// Attributes a run may put on the function.
const ATTRIBUTES: &[&str] = &[
    "",
    "jvp",
    "hessian",
    "graph",
    "jvp, hessian",
    "wrt(x0)",
    "wrt(w)",
    "wrt(zz)",
    "wrt()",
    "crate = ::grad",
    "jvp, graph, hessian, wrt(x0, x1)",
    "wrt(x0, x0)",
    "wrt",
    "jvp = 1",
    "crate",
    "(",
    "hessian, hessian",
];

fn mutate(r: &mut Rng, source: &str) -> String {
    let mut s = source.to_owned();
    for _ in 0..=r.below(4) {
        let len = s.len();
        if len == 0 {
            break;
        }
        // Cut at char boundaries only.
        let mut at = r.below(len);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + 1 + r.below(40)).min(len);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        match r.below(4) {
            0 => s.replace_range(at..end, ""),
            1 => {
                let piece = s[at..end].to_owned();
                s.insert_str(at, &piece);
            }
            2 => s.insert_str(at, &format!(" {} ", VOCABULARY[r.below(VOCABULARY.len())])),
            _ => {
                let piece = VOCABULARY[r.below(VOCABULARY.len())];
                s.replace_range(at..end, &format!(" {piece} "));
            }
        }
    }
    s
}

fn panics(seconds: u64, seed: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut r = Rng::new(seconds ^ seed ^ 0x5eed);
    let (mut runs, mut parsed, mut found) = (0u64, 0u64, Vec::<String>::new());
    std::panic::set_hook(Box::new(|_| {}));
    let mut batch = 0u64;
    while Instant::now() < deadline {
        batch += 1;
        let (source, _) = program::batch(batch, 20, "f");
        let items: Vec<&str> = source.split("\n#[").collect();
        for item in items {
            // The generated function itself (without attributes), then mutations of it.
            let Some(start) = item.find("pub fn ") else {
                continue;
            };
            let Some(end) = item[start..].find("\n}\n") else {
                continue;
            };
            let function = &item[start..start + end + 2];
            for k in 0..30 {
                let text = if k == 0 {
                    function.to_owned()
                } else {
                    mutate(&mut r, function)
                };
                runs += 1;
                let Ok(parsed_item) = syn::parse_str::<syn::ItemFn>(&text) else {
                    continue;
                };
                parsed += 1;
                let attr = mutate_attr(&mut r);
                let attr_tokens: proc_macro2::TokenStream = attr.parse().unwrap_or_default();
                let item_tokens = quote::ToTokens::to_token_stream(&parsed_item);
                let outcome = std::panic::catch_unwind(|| {
                    engine::derive_grad(attr_tokens.clone(), &item_tokens)
                });
                if let Err(panic) = outcome {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    println!("PANIC: {message}\n  #[derive_grad({attr})]\n  {text}\n");
                    found.push(message);
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    println!(
        "{runs} inputs ({parsed} parsed as functions) in {seconds} s ({} s of CPU): {} panics",
        cpu_seconds().map_or_else(|| "?".to_owned(), |s| format!("{s:.0}")),
        found.len()
    );
}

/// The CPU time this process has used (user + system), where Linux's `/proc` says it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

fn mutate_attr(r: &mut Rng) -> String {
    let base = ATTRIBUTES[r.below(ATTRIBUTES.len())];
    if r.chance(0.2) {
        mutate(r, base)
    } else {
        base.to_owned()
    }
}

/// A generator of functions of a given number of operations (`grad_fuzz::scale`).
type Generator = fn(&str, usize, u64) -> String;

/// Expansion time, emitted size and build time against the number of operations.
fn scale(max_built_ops: usize) {
    let dir = std::env::temp_dir().join("grad-scale");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    println!(
        "{:<9} {:>6} {:>11} {:>10} {:>11} {:>9} {:>10} {:>10} {:>6}",
        "shape",
        "ops",
        "expand",
        "in bytes",
        "out bytes",
        "out/op",
        "build f",
        "build all",
        "ratio"
    );
    let shapes: [(&str, Generator); 2] = [
        ("straight", grad_fuzz::scale::straight_line),
        ("loops", grad_fuzz::scale::loop_heavy),
    ];
    for (shape, generate) in shapes {
        for ops in [100, 1_000, 10_000] {
            let source = generate("f", ops, 1);
            let item: proc_macro2::TokenStream = source.parse().expect("generated code parses");
            let mut best = Duration::MAX;
            let mut expanded = proc_macro2::TokenStream::new();
            for _ in 0..3 {
                let start = Instant::now();
                expanded = engine::derive_grad(proc_macro2::TokenStream::new(), &item);
                best = best.min(start.elapsed());
            }
            let expanded = expanded.to_string();
            assert!(
                !expanded.contains("compile_error"),
                "{shape} {ops}: {expanded}"
            );
            let builds = if ops <= max_built_ops {
                let primal = rustc_time(&dir, &format!("{shape}_{ops}_f"), &source);
                let all = rustc_time(&dir, &format!("{shape}_{ops}_all"), &expanded);
                format!("{primal:>8.2} s {all:>8.2} s {:>6.2}", all / primal)
            } else {
                format!("{:>10} {:>10} {:>6}", "-", "-", "-")
            };
            println!(
                "{shape:<9} {ops:>6} {:>8.1} ms {:>10} {:>11} {:>9.0} {builds}",
                best.as_secs_f64() * 1e3,
                source.len(),
                expanded.len(),
                expanded.len() as f64 / ops as f64,
            );
        }
    }
}

/// Seconds `rustc -O` takes on `source` as a library linked against `grad`.
fn rustc_time(dir: &std::path::Path, name: &str, source: &str) -> f64 {
    let deps = std::env::current_exe()
        .expect("the campaign's path")
        .parent()
        .expect("its directory")
        .join("deps");
    let grad = std::fs::read_dir(&deps)
        .expect("the deps directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rlib")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libgrad-"))
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .expect("grad is built next to the campaign");
    let file = dir.join(format!("{name}.rs"));
    std::fs::write(&file, format!("#![allow(warnings)]\n{source}")).expect("writing");
    let start = Instant::now();
    let status = Command::new("rustc")
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "-C",
            "opt-level=3",
        ])
        .arg("--extern")
        .arg(format!("grad={}", grad.display()))
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("--out-dir")
        .arg(dir)
        .arg(&file)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "{name} does not build");
    start.elapsed().as_secs_f64()
}
