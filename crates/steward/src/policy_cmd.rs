//! `steward policy …`: check, import, export and diff.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use steward_policy::{handbook, Policy};

use crate::PolicyCmd;

/// The example policy shipped inside the binary, used when no policy file is given.
pub const EXAMPLE_POLICY: &str = include_str!("../../../examples/policy.toml");

pub fn run(cmd: PolicyCmd) -> Result<ExitCode> {
    match cmd {
        PolicyCmd::Check { files, deny_warnings } => check(&files, deny_warnings),
        PolicyCmd::Import { page, base, name, version, effective } => {
            let text = read(&page)?;
            let base = match base {
                Some(path) => load(Some(&path))?,
                None => load(None)?,
            };
            let mut imported = handbook::import(&text, Some(&base));
            let p = &mut imported.policy;
            if let Some(n) = name {
                p.name = n;
            }
            // An imported page is a new version: it does not inherit the base's label. It
            // keeps the one it states (a page `policy export` wrote), unless told otherwise.
            let (stated_version, stated_effective) = imported.stated.clone().unzip();
            p.version = version.or(stated_version).unwrap_or_else(|| "imported".to_string());
            p.effective = effective
                .or(stated_effective)
                .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
            let shown = page.display().to_string();
            let mut errors = false;
            for d in &imported.diagnostics {
                errors |= d.is_error();
                eprintln!("{}", d.render(&shown, &text));
            }
            // With errors nothing is printed: `import page.md > policy.toml` must not leave
            // a broken policy behind that looks like a result.
            if errors {
                return Ok(ExitCode::FAILURE);
            }
            crate::write_stdout(&imported.policy.to_toml())?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Export { file } => {
            let policy = load(Some(&file))?;
            crate::write_stdout(&handbook::export(&policy))?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Diff { old: old_path, new: new_path, json } => {
            let (old, new) = (load_any(&old_path)?, load_any(&new_path)?);
            let mut diff = steward_policy::diff::diff(&old, &new);
            if json {
                crate::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&diff)?))?;
            } else if diff.is_empty() {
                crate::write_stdout("no changes\n")?;
            } else {
                if diff.old_version == diff.new_version {
                    // Two pages imported without `--version` (both "imported"), or two
                    // drafts that kept their label: the header names the files as well, or
                    // it would read `policy imported → imported`.
                    diff.old_version = format!("{} ({})", diff.old_version, old_path.display());
                    diff.new_version = format!("{} ({})", diff.new_version, new_path.display());
                }
                crate::write_stdout(&diff.to_string())?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(files: &[PathBuf], deny_warnings: bool) -> Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let shown = file.display().to_string();
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{shown}: error: cannot read: {e}");
                failed = true;
                continue;
            }
        };
        let outcome = steward_policy::parse(&source);
        for d in &outcome.diagnostics {
            println!("{}", d.render(&shown, &source));
            failed |= d.is_error() || deny_warnings;
        }
        if let (Some(p), false) = (&outcome.policy, outcome.has_errors()) {
            eprintln!(
                "{shown}: ok: policy `{}` version {} effective {}: {} topics, {} roles, {} people",
                p.name,
                p.version,
                p.effective,
                p.topics.len(),
                p.roles.len(),
                p.people.len()
            );
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads and validates a policy file, or the shipped example when `path` is `None`.
/// Warnings go to standard error; errors fail with every diagnostic.
pub fn load(path: Option<&Path>) -> Result<Policy> {
    let (shown, source) = match path {
        Some(p) => (p.display().to_string(), read(p)?),
        None => ("<example policy>".to_string(), EXAMPLE_POLICY.to_string()),
    };
    let outcome = steward_policy::parse(&source);
    let errors: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(&shown, &source))
        .collect();
    match outcome.policy {
        Some(policy) if errors.is_empty() => Ok(policy),
        _ => bail!("invalid policy:\n{}", errors.join("\n")),
    }
}

/// A TOML policy, or a handbook page imported with the shipped example as its base.
fn load_any(path: &Path) -> Result<Policy> {
    if path.extension().is_some_and(|e| e == "toml") {
        load(Some(path))
    } else {
        Ok(handbook::import(&read(path)?, Some(&load(None)?)).policy)
    }
}
