//! `lossbench slurm`: the sbatch scripts of a run as a Slurm job array.
//!
//! Two scripts, written into `<run-dir>/slurm/`:
//!
//! - `run.sbatch`, an array of N tasks (`--array=0-(N-1)`, `%K` with
//!   `--parallel K`); task i runs `lossbench run <suite> --shard i/N`. The
//!   count N is written into the script, so resubmitting some indices
//!   (`sbatch --array=3,7 run.sbatch`) runs the same shards;
//! - `merge.sbatch`, one task: `lossbench merge <run-dir>`, submitted with
//!   `--dependency=afterok:<array job>` (and `--kill-on-invalid-dep=yes`,
//!   so that it leaves the queue when a task fails instead of waiting for
//!   ever).
//!
//! Every path in a script is absolute (the binary, the suite file, the
//! results and reports roots), so the scripts work whatever directory they
//! are submitted from. Paths in the body are single-quoted for the shell;
//! `#SBATCH` lines are read by sbatch, not a shell, so the one path there
//! (the log files', under the run directory) must be free of blanks,
//! quotes and `%`, and a results directory that is not is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::suite::Suite;
use crate::{Error, Result};

/// The array script's file name.
pub const RUN_SCRIPT: &str = "run.sbatch";
/// The merge script's file name.
pub const MERGE_SCRIPT: &str = "merge.sbatch";

/// The directory of a run's Slurm scripts and logs.
pub fn script_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("slurm")
}

/// What `lossbench slurm` was asked for.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// The number of array tasks (shards); `None`: one per job.
    pub shards: Option<usize>,
    /// At most this many tasks at once (`--array=...%K`).
    pub parallel: Option<usize>,
    pub partition: Option<String>,
    pub gpus_per_task: Option<u32>,
    /// Slurm's time limit, as sbatch takes it (`4:00:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// `lossbench run`'s options, passed on to every task.
    pub device: String,
    pub results: PathBuf,
    pub reports: PathBuf,
    pub seeds: Option<Vec<u64>>,
    pub suite_file: PathBuf,
    /// The lossbench binary the tasks run.
    pub binary: PathBuf,
}

/// The scripts of one run, as written.
#[derive(Debug, Clone)]
pub struct Scripts {
    pub run_dir: PathBuf,
    pub run: PathBuf,
    pub merge: PathBuf,
    pub logs: PathBuf,
    pub shards: usize,
    pub jobs: usize,
}

/// `s` quoted for a POSIX shell: as it is when it holds only characters no
/// shell treats specially, else in single quotes (a `'` inside as `'\''`).
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@=".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `path` made absolute against the current directory (without resolving
/// links: the directory may not exist yet).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| {
        Error::Usage(format!(
            "cannot make '{}' an absolute path: {e}",
            path.display()
        ))
    })
}

/// Checks a value that goes onto an `#SBATCH` line: sbatch splits those
/// lines itself, so only plain characters are safe there.
fn sbatch_value(what: &str, v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@=".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{what} {v:?}: an #SBATCH line takes only letters, digits and / . _ - + , : @ ="
        )))
    }
}

/// The two scripts' text for `suite` (already given its `--seeds`), whose
/// run directory is `run_dir` (absolute), with `opts`' paths absolute.
fn texts(
    suite: &Suite,
    run_id: &str,
    run_dir: &Path,
    o: &SlurmOptions,
) -> Result<(String, String, usize)> {
    let jobs = suite.jobs().len();
    let shards = o.shards.unwrap_or(jobs);
    if shards == 0 || shards > jobs {
        return Err(Error::Usage(format!(
            "--shards {shards}: the suite has {jobs} job(s), so 1 to {jobs} shards"
        )));
    }
    if o.parallel == Some(0) {
        return Err(Error::Usage("--parallel 0: give at least 1".into()));
    }
    if o.gpus_per_task == Some(0) {
        return Err(Error::Usage(
            "--gpus-per-task 0: leave it out for tasks without a GPU".into(),
        ));
    }
    if let Some(p) = &o.partition {
        sbatch_value("--partition", p)?;
    }
    if let Some(t) = &o.time {
        sbatch_value("--time", t)?;
    }
    crate::device::parse(&o.device)?;
    let logs = script_dir(run_dir).join("logs");
    let logs_s = logs.to_string_lossy().into_owned();
    sbatch_value("the log directory (under --results)", &logs_s)?;
    let q = |p: &Path| shell_quote(&p.to_string_lossy());
    let mut common = String::from("#SBATCH --ntasks=1\n");
    if let Some(p) = &o.partition {
        common += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = &o.time {
        common += &format!("#SBATCH --time={t}\n");
    }
    let header = |what: &str| {
        format!(
            "#!/bin/bash\n# Written by `lossbench slurm` (lossbench {}) for suite '{}', \
             run {run_id}: {jobs} job(s) in {shards} shard(s).\n# {what}\n",
            crate::VERSION,
            suite.name
        )
    };
    let throttle = o.parallel.map(|k| format!("%{k}")).unwrap_or_default();
    let mut run = header(&format!(
        "Array task i runs shard i/{shards} of the run's jobs. Resubmit some tasks with \
         `sbatch --array=3,7 {RUN_SCRIPT}` (`lossbench status` names them)."
    ));
    run += &format!("#SBATCH --job-name=lossbench-{}\n", suite.name);
    run += &format!("#SBATCH --array=0-{}{throttle}\n", shards - 1);
    run += &format!("#SBATCH --output={logs_s}/run-%A_%a.out\n");
    run += &common;
    if let Some(g) = o.gpus_per_task {
        run += &format!("#SBATCH --gpus-per-task={g}\n");
    }
    run += "set -eu\n";
    run += &format!(
        "exec {} run {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{shards}\" --device {} --results {} --reports {}",
        q(&o.binary),
        q(&o.suite_file),
        shell_quote(&o.device),
        q(&o.results),
        q(&o.reports),
    );
    if let Some(seeds) = &o.seeds {
        let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
        run += &format!(" --seeds {}", list.join(","));
    }
    run += "\n";
    let mut merge = header(
        "Merges what the array's tasks wrote: `lossbench merge`; submit it with \
         --dependency=afterok:<array job id>.",
    );
    merge += &format!("#SBATCH --job-name=lossbench-{}-merge\n", suite.name);
    merge += &format!("#SBATCH --output={logs_s}/merge-%j.out\n");
    merge += &common;
    merge += "set -eu\n";
    merge += &format!(
        "exec {} merge {} --reports {}\n",
        q(&o.binary),
        q(run_dir),
        q(&o.reports)
    );
    Ok((run, merge, shards))
}

/// Writes the run's scripts (see the module doc) and records its shard
/// count, for `lossbench status`.
///
/// # Errors
///
/// [`Error::Usage`] for a bad option or a results path an `#SBATCH` line
/// cannot hold; [`Error::Io`] when a file cannot be written.
pub fn write(suite: &Suite, opts: &SlurmOptions) -> Result<Scripts> {
    let mut o = opts.clone();
    o.suite_file =
        std::fs::canonicalize(&opts.suite_file).map_err(|e| Error::read(&opts.suite_file, e))?;
    o.binary = absolute(&opts.binary)?;
    o.results = absolute(&opts.results)?;
    o.reports = absolute(&opts.reports)?;
    let run_id = crate::runner::run_id(suite);
    let run_dir = o.results.join(&suite.name).join(&run_id);
    let (run, merge, shards) = texts(suite, &run_id, &run_dir, &o)?;
    let dir = script_dir(&run_dir);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|e| Error::fs(crate::error::IoOp::CreateDir, &logs, e))?;
    let mut paths = Vec::new();
    for (name, text) in [(RUN_SCRIPT, &run), (MERGE_SCRIPT, &merge)] {
        let path = dir.join(name);
        crate::results::store::write_atomic(&path, text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
        paths.push(path);
    }
    super::record_shards(&run_dir, shards)?;
    Ok(Scripts {
        run_dir,
        merge: paths.pop().expect("two scripts"),
        run: paths.pop().expect("two scripts"),
        logs,
        shards,
        jobs: suite.jobs().len(),
    })
}

impl Scripts {
    /// The shell commands that submit the array and the merge job after it.
    pub fn submit_commands(&self) -> String {
        let q = |p: &Path| shell_quote(&p.to_string_lossy());
        format!(
            "jid=$(sbatch --parsable {}) && sbatch --dependency=afterok:\"${{jid%%;*}}\" \
             --kill-on-invalid-dep=yes {}",
            q(&self.run),
            q(&self.merge)
        )
    }

    /// Submits the array, then the merge job depending on it; their job ids.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] when `sbatch` cannot be started (not a Slurm
    /// machine) or refuses a script, with what it said.
    pub fn submit(&self) -> Result<(String, String)> {
        let array = sbatch(&[], &self.run)?;
        let merge = sbatch(
            &[
                format!("--dependency=afterok:{array}"),
                "--kill-on-invalid-dep=yes".to_owned(),
            ],
            &self.merge,
        )?;
        Ok((array, merge))
    }
}

/// Runs `sbatch --parsable <args> <script>`; the job id it prints.
fn sbatch(args: &[String], script: &Path) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|e| {
            Error::Usage(format!(
                "cannot run sbatch ({e}): is this a Slurm machine? Submit the scripts by hand \
                 where it is"
            ))
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "sbatch refused '{}': {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // `--parsable` prints `<job id>` or `<job id>;<cluster>`.
    let id = stdout.trim().split(';').next().unwrap_or("").to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "sbatch printed {stdout:?}, not a job id"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(shell_quote("/a/b-c_d.yaml"), "/a/b-c_d.yaml");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn quoted_paths_come_back_whole_through_a_shell() {
        for s in ["a b", "it's", "$(x) `y` \"z\"", "a\nb", "*?[]"] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }
}
