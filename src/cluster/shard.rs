//! Which jobs of a run one process runs: `lossbench run --shard i/N`, or
//! the shard a Slurm array task or a Kubernetes Indexed Job stands for.
//!
//! **The rule.** The run's job ids are sorted, and the job of rank `r` in
//! that order goes to shard `r mod N`. The job ids are fixed by the run (the
//! run id hashes the whole resolved suite), so every process of a run,
//! whenever and wherever it starts, deals the same jobs to the same shards,
//! and every shard gets ⌊J/N⌋ or ⌈J/N⌉ of the J jobs. (A hash of the id
//! mod N, the other stable rule, leaves shards empty or doubled on the few
//! jobs of a small suite: the four jobs of `suites/ci.yaml` would not make
//! four equal tasks.)
//!
//! **From the environment** ([`from_env`]), when `--shard` is not given:
//!
//! - in a Slurm array task (`SLURM_ARRAY_TASK_ID` set), shard
//!   `SLURM_ARRAY_TASK_ID` of `LOSSBENCH_SHARDS` when that is set, else of
//!   `SLURM_ARRAY_TASK_COUNT`. A resubmission of some indices
//!   (`sbatch --array=3,7`) has a task count of 2, so it needs the count
//!   given: the script `lossbench slurm` writes passes `--shard` with the
//!   run's count, and a hand-written one sets `LOSSBENCH_SHARDS`;
//! - in a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` set), shard
//!   `JOB_COMPLETION_INDEX` of `LOSSBENCH_SHARDS`, which must then be set
//!   (to the Job's `completions`: Kubernetes does not tell the pod);
//! - otherwise no shard: the process runs every job.
//!
//! An index that is not below its count is refused, never wrapped.

use std::collections::BTreeMap;

use crate::{Error, Result};

/// Names the environment variable that gives the number of shards.
pub const SHARDS_ENV: &str = "LOSSBENCH_SHARDS";

/// Shard `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Shard `index` of `count`, checked; `what` names where they came from.
    pub fn new(index: usize, count: usize, what: &str) -> Result<Shard> {
        if count == 0 {
            return Err(Error::Usage(format!(
                "{what}: the number of shards must be at least 1"
            )));
        }
        if index >= count {
            return Err(Error::Usage(format!(
                "{what}: shard {index} of {count} does not exist (shards are numbered 0 to {})",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// Parses `--shard i/N`.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::Usage(format!(
                "--shard {s:?}: expected i/N, e.g. 0/4 (shard 0 of 4; shards are numbered from 0)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n, &format!("--shard {s}"))
    }

    /// Whether the job of rank `rank` in the sorted job ids is this shard's.
    fn takes(&self, rank: usize) -> bool {
        rank % self.count == self.index
    }
}

/// The shard each job id goes to, for `count` shards (see the module doc).
pub fn assign<'a>(ids: impl IntoIterator<Item = &'a str>, count: usize) -> BTreeMap<String, usize> {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .enumerate()
        .map(|(rank, id)| (id.to_owned(), rank % count.max(1)))
        .collect()
}

/// Keeps the items whose id is in `shard` (all of them for `None`), in
/// their order.
pub fn select<T>(items: Vec<T>, id: impl Fn(&T) -> &str, shard: Option<Shard>) -> Vec<T> {
    let Some(shard) = shard else {
        return items;
    };
    let mut ids: Vec<&str> = items.iter().map(&id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mine: std::collections::HashSet<String> = ids
        .into_iter()
        .enumerate()
        .filter(|&(rank, _)| shard.takes(rank))
        .map(|(_, id)| id.to_owned())
        .collect();
    items
        .into_iter()
        .filter(|it| mine.contains(id(it)))
        .collect()
}

/// The shard the environment names (see the module doc); `get` reads a
/// variable (`std::env::var` in the binary, a map in tests).
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>> {
    let number = |name: &str| -> Result<Option<usize>> {
        match get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::Usage(format!("{name}={v:?}: expected a whole number"))),
        }
    };
    let shards = number(SHARDS_ENV)?;
    if let Some(index) = number("SLURM_ARRAY_TASK_ID")? {
        let count = match shards {
            Some(n) => n,
            None => number("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                Error::Usage(format!(
                    "SLURM_ARRAY_TASK_ID is set but neither {SHARDS_ENV} nor \
                     SLURM_ARRAY_TASK_COUNT is: pass --shard i/N"
                ))
            })?,
        };
        let from = if shards.is_some() {
            format!("SLURM_ARRAY_TASK_ID and {SHARDS_ENV}")
        } else {
            "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a resubmission of some \
             indices needs --shard i/N or LOSSBENCH_SHARDS)"
                .to_owned()
        };
        return Shard::new(index, count, &from).map(Some);
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = shards.ok_or_else(|| {
            Error::Usage(format!(
                "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but {SHARDS_ENV} is \
                 not: set it to the Job's completions, or pass --shard i/N"
            ))
        })?;
        return Shard::new(
            index,
            count,
            &format!("JOB_COMPLETION_INDEX and {SHARDS_ENV}"),
        )
        .map(Some);
    }
    Ok(None)
}

/// Slurm's `--array=` list of `indices`: sorted, runs of consecutive
/// indices as ranges (`3,7,10-12`).
pub fn array_spec(indices: impl IntoIterator<Item = usize>) -> String {
    let mut v: Vec<usize> = indices.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parse_takes_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "0/0", "1", "a/2", "-1/3", "1/2/3", ""] {
            let e = Shard::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
        }
    }

    #[test]
    fn every_job_goes_to_exactly_one_shard_and_shards_are_even() {
        let ids: Vec<String> = (0..11u64)
            .map(|i| format!("{:016x}", i * 0x9e37_79b9))
            .collect();
        for n in 1..=11 {
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            for i in 0..n {
                let mine = select(ids.clone(), |s| s, Some(Shard { index: i, count: n }));
                sizes.push(mine.len());
                seen.extend(mine);
            }
            seen.sort();
            let mut all = ids.clone();
            all.sort();
            assert_eq!(seen, all, "n = {n}");
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "n = {n}: {sizes:?}");
            // select and assign agree.
            let map = assign(ids.iter().map(String::as_str), n);
            for i in 0..n {
                let mine = select(ids.clone(), |s| s, Some(Shard { index: i, count: n }));
                assert!(mine.iter().all(|id| map[id] == i));
            }
        }
    }

    #[test]
    fn the_rule_does_not_depend_on_plan_order() {
        let ids = vec!["c0", "a1", "b2", "d3"];
        let mut reversed = ids.clone();
        reversed.reverse();
        let s = Some(Shard { index: 1, count: 3 });
        let mut a = select(ids, |s| s, s);
        let mut b = select(reversed, |s| s, s);
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(a, vec!["b2"]);
    }

    #[test]
    fn the_environment_names_the_shard() {
        assert_eq!(from_env(env(&[])).unwrap(), None);
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            from_env(env(&slurm)).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        // A resubmission of index 3 alone: a task count of 1 is refused...
        let resub = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ];
        let e = from_env(env(&resub)).unwrap_err().to_string();
        assert!(e.contains("LOSSBENCH_SHARDS"), "{e}");
        // ... and LOSSBENCH_SHARDS gives the run's count.
        let resub = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("LOSSBENCH_SHARDS", "4"),
        ];
        assert_eq!(
            from_env(env(&resub)).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        let k8s = [("JOB_COMPLETION_INDEX", "1")];
        let e = from_env(env(&k8s)).unwrap_err().to_string();
        assert!(e.contains("LOSSBENCH_SHARDS"), "{e}");
        let k8s = [("JOB_COMPLETION_INDEX", "1"), ("LOSSBENCH_SHARDS", "2")];
        assert_eq!(
            from_env(env(&k8s)).unwrap(),
            Some(Shard { index: 1, count: 2 })
        );
        let bad = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(from_env(env(&bad)).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn array_specs_are_slurm_ranges() {
        assert_eq!(array_spec([12, 3, 10, 7, 11]), "3,7,10-12");
        assert_eq!(array_spec([0, 1]), "0-1");
        assert_eq!(array_spec([5]), "5");
        assert_eq!(array_spec([]), "");
        assert_eq!(array_spec([2, 2, 4]), "2,4");
    }
}
