//! The report's text and tables, built once and written out twice: as
//! Markdown ([`super::markdown`]) and as HTML ([`super::html`]).
//!
//! Every metric cell is `mean ± std` over the jobs (seeds) that reported it:
//! sample standard deviation, 4 decimals (docs/definitions.md §4, last line). Each row says
//! how many seeds it has (`seeds`); a cell with fewer says `(n=…)`, a cell
//! from one seed shows the value alone, and counts (`n_…`) that agree across
//! seeds show as integers ([`metric`]). Timings are shown apart, as plain
//! means, because their spread says more about the machine than about the
//! loss.

mod glance;
mod metric;

use metric::{
    attack_timing, metric_table, training_timing, Layout, ATTACK_METRICS, DETECTION_METRICS,
    TIMING_METRICS,
};

use super::Order;
use crate::results::{JobStatus, Manifest, RunStatus, RunTables, FIT_SUBSET, OOD_SUBSET};

/// A heading and what follows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    /// 1 for the page title, 2 for sections, 3 for sub-sections.
    pub level: usize,
    pub title: String,
    /// HTML anchor, unique within the report.
    pub id: String,
    pub blocks: Vec<Block>,
}

/// One paragraph, table or list. Text may hold `` `code` `` spans and
/// nothing else of Markdown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Text(String),
    Table(Table),
    List(Vec<String>),
}

/// A table of plain-text cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns before this one are keys (left-aligned), later ones numbers.
    pub first_value: usize,
    /// The column that names the loss, so HTML can show its plot colour.
    pub loss_column: Option<usize>,
    /// Cells shown in bold, as (row, column): the best of their row.
    pub bold: Vec<(usize, usize)>,
}
/// The report's sections, from the header to the failed jobs; plots are
/// added by the writers.
pub(crate) fn sections(m: &Manifest, t: &RunTables) -> Vec<Section> {
    let order = Order::new(t);
    let pairs = scopes(t);
    // One dataset / model pair: named once in the header, not in every row.
    let scope = pairs.len() != 1;
    let mut out = vec![Section {
        level: 1,
        title: format!("lossbench report: {}", m.suite_name),
        id: "top".into(),
        blocks: vec![Block::Table(header(m, &pairs))],
    }];
    if let Some(table) = losses(t) {
        let text = "Each row of the tables below is one of these losses, under its label, with \
                    the parameters it trained with (docs/definitions.md §1).";
        out.push(section(
            2,
            "Losses",
            "losses",
            vec![Block::Text(text.into()), table],
        ));
    }

    out.push(section(
        2,
        "Clean accuracy",
        "clean-accuracy",
        vec![
            Block::Text(SEEDS_NOTE.into()),
            metric_table(
                t,
                &order,
                &Layout {
                    scope,
                    attack: false,
                    detector: false,
                    preferred: &["clean_acc"],
                    only_preferred: true,
                },
                |r| r.attack == "none" && r.detector == "none" && r.subset == "clean",
            ),
        ],
    ));

    if t.metrics.iter().any(is_mixture_fit) {
        out.push(section(
            2,
            "L-GM mixture fit",
            "lgm-mixture-fit",
            vec![
                Block::Text(MIXTURE_NOTE.into()),
                metric_table(
                    t,
                    &order,
                    &Layout {
                        scope,
                        attack: false,
                        detector: false,
                        preferred: &MIXTURE_METRICS,
                        only_preferred: true,
                    },
                    is_mixture_fit,
                ),
            ],
        ));
    }

    out.push(section(
        2,
        "Attacks",
        "attacks",
        vec![
            Block::Text(
                "`robust_acc` over all test samples, `asr` over the clean-correct ones \
                 (`n_eval` of them), perturbation norms over successful examples \
                 (docs/definitions.md §2). Timings are in [Timing](#timing)."
                    .into(),
            ),
            metric_table(
                t,
                &order,
                &Layout {
                    scope,
                    attack: true,
                    detector: false,
                    preferred: &ATTACK_METRICS,
                    only_preferred: false,
                },
                |r| {
                    r.attack != "none"
                        && r.detector == "none"
                        && !TIMING_METRICS.contains(&r.metric.as_str())
                },
            ),
        ],
    ));

    let detection = |subset: &'static str| {
        metric_table(
            t,
            &order,
            &Layout {
                scope,
                attack: true,
                detector: true,
                preferred: &DETECTION_METRICS,
                only_preferred: false,
            },
            move |r| r.detector != "none" && r.subset == subset,
        )
    };
    out.push(section(
        2,
        "Detection",
        "detection",
        [Block::Text(
            "Positives: successful adversarial examples; negatives: their clean \
                 counterparts, on the held-out 20 % (docs/definitions.md §3, §4). `auroc 95 % CI`: \
                 paired percentile bootstrap, both ends averaged over seeds; `n_pairs`: \
                 scored pairs."
                .into(),
        )]
        .into_iter()
        .chain(
            glance::auroc_by_detector(t, &order, scope)
                .map(|table| {
                    [
                        Block::Text(glance::NOTE.into()),
                        table,
                        Block::Text(ALL_METRICS.into()),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .chain([detection("successful")])
        .collect(),
    ));

    if t.metrics
        .iter()
        .any(|r| r.detector != "none" && r.subset == "all")
    {
        out.push(section(
            3,
            "Detection, all adversarial examples",
            "detection-all",
            vec![
                Block::Text("Positives: every adversarial example, successful or not.".into()),
                detection("all"),
            ],
        ));
    }

    if t.metrics.iter().any(|r| r.subset == FIT_SUBSET) {
        out.push(section(
            3,
            "Detector settings chosen when fitted",
            "detection-fitted",
            vec![
                Block::Text(
                    "`kd_sigma`: the kernel bandwidth σ of `kd` and `kd-bu` (chosen per trained \
                     model when `sigma: auto`); `lr_c`: the C of the supervised detectors' \
                     logistic regression, per attack (chosen by cross-validation when `c: auto`) \
                     (docs/definitions.md §3)."
                        .into(),
                ),
                metric_table(
                    t,
                    &order,
                    &Layout {
                        scope,
                        attack: true,
                        detector: true,
                        preferred: &["kd_sigma", "lr_c"],
                        only_preferred: false,
                    },
                    |r| r.detector != "none" && r.subset == FIT_SUBSET,
                ),
            ],
        ));
    }

    if let Some(table) = glance::defended_by_detector(t, &order, scope) {
        out.push(section(
            2,
            "Defended accuracy",
            "defended-accuracy",
            vec![Block::Text(glance::DEFENDED_NOTE.into()), table],
        ));
    }

    if t.metrics.iter().any(|r| r.subset == OOD_SUBSET) {
        let mut blocks = vec![Block::Text(OOD_NOTE.into())];
        for (metric, text) in [
            (
                "auroc",
                "AUROC, abnormal inputs against in-distribution test samples, one column \
                 per detector; in bold: the highest mean of the row.",
            ),
            (
                "fpr_at_95tpr",
                "FPR at 95 % TPR: the share of in-distribution test samples flagged when 95 % \
                 of the abnormal inputs are; in bold: the lowest mean of the row.",
            ),
        ] {
            if let Some(table) = glance::ood_by_detector(t, &order, scope, metric) {
                blocks.push(Block::Text(text.into()));
                blocks.push(table);
            }
        }
        blocks.push(Block::Text(
            "Every metric: `auroc 95 % CI` is the unpaired percentile bootstrap (each side \
             resampled on its own), both ends averaged over seeds; `n_in`, `n_out`: scored \
             in-distribution and abnormal inputs."
                .into(),
        ));
        blocks.push(metric_table(
            t,
            &order,
            &Layout {
                scope,
                attack: true,
                detector: true,
                preferred: &OOD_METRICS,
                only_preferred: false,
            },
            |r| r.subset == OOD_SUBSET,
        ));
        out.push(section(2, "Abnormal inputs", "abnormal-inputs", blocks));
    }

    out.push(section(
        2,
        "Timing",
        "timing",
        vec![
            Block::Text(
                "Means over seeds, in seconds of wall time on the run's device; \
                 throughput in images per second."
                    .into(),
            ),
            training_timing(t, &order, scope),
            attack_timing(t, &order, scope),
        ],
    ));

    // One line per (loss, reason), with the seeds it happened on.
    let mut skipped: Vec<(String, String, Vec<u64>)> = Vec::new();
    for j in &t.jobs {
        for why in j.notes.lines().filter(|l| !l.trim().is_empty()) {
            match skipped
                .iter_mut()
                .find(|(loss, w, _)| *loss == j.loss && w == why)
            {
                Some((_, _, seeds)) => seeds.push(j.seed),
                None => skipped.push((j.loss.clone(), why.to_string(), vec![j.seed])),
            }
        }
    }
    out.push(section(
        2,
        "Skipped",
        "skipped",
        vec![if skipped.is_empty() {
            Block::Text("Nothing.".into())
        } else {
            Block::List(
                skipped
                    .iter()
                    .map(|(loss, why, seeds)| {
                        let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
                        format!("{loss} (seeds {}): {why}", seeds.join(", "))
                    })
                    .collect(),
            )
        }],
    ));

    let failed: Vec<String> = t
        .jobs
        .iter()
        .filter(|j| j.status != JobStatus::Done)
        .map(|j| {
            format!(
                "`{}` ({} / {} / {}, seed {}): {}: {}",
                j.job_id,
                j.dataset,
                j.model,
                j.loss,
                j.seed,
                j.status,
                one_line(&j.error)
            )
        })
        .collect();
    out.push(section(
        2,
        "Failed jobs",
        "failed-jobs",
        vec![if failed.is_empty() {
            Block::Text("None.".into())
        } else {
            Block::List(failed)
        }],
    ));
    out
}

/// What the abnormal-input section shows (docs/definitions.md §5).
const OOD_NOTE: &str = "Abnormal inputs (docs/definitions.md §5): every unsupervised detector \
    scores the in-distribution test samples (negatives) and the inputs of each abnormal source \
    (positives; the `attack` column names the source, `ood:<source>`); no pairs. Supervised detectors (`kd-bu`, \
    `lid`) are skipped: they fit on labelled adversarial pairs (see [Skipped](#skipped)). \
    ROC curves: [ROC curves, abnormal inputs](#roc-ood).";

/// The abnormal-input metrics, in this order (`auroc_ci_low` stands for the
/// interval column).
const OOD_METRICS: [&str; 8] = [
    "auroc",
    "auroc_ci_low",
    "fpr_at_95tpr",
    "aupr_in",
    "aupr_out",
    "det_acc",
    "n_in",
    "n_out",
];

/// The fit of each L-GM model's learned means to its training features
/// (docs/definitions.md §1.4), in this order.
const MIXTURE_METRICS: [&str; 4] = [
    "lgm_mean_dist",
    "lgm_mean_dist_max",
    "lgm_class_sep",
    "lgm_mean_dist_rel",
];

fn is_mixture_fit(r: &crate::results::MetricRow) -> bool {
    r.attack == "none"
        && r.detector == "none"
        && r.subset == "train"
        && MIXTURE_METRICS.contains(&r.metric.as_str())
}

const MIXTURE_NOTE: &str = "Whether training fitted the mixture: `lgm_mean_dist` is the mean, \
                            and `lgm_mean_dist_max` the largest, over classes of the distance \
                            between the learned mean μ_k and the mean of the clean training \
                            features of class k; `lgm_class_sep` is the mean distance between \
                            two classes' feature means, and `lgm_mean_dist_rel` the first over \
                            it (near 0: the learned means sit on their classes; near 1 or \
                            more: they are as far off as the classes are apart) \
                            (docs/definitions.md §1.4).";

const ALL_METRICS: &str = "Every detection metric, one row per loss, attack and detector:";

const SEEDS_NOTE: &str = "Cells: mean ± sample standard deviation over the row's `seeds` (one \
                          job each); a cell that fewer seeds reported says `(n=…)`, and a row \
                          of one seed shows the value alone.";

fn section(level: usize, title: &str, id: &str, blocks: Vec<Block>) -> Section {
    Section {
        level,
        title: title.into(),
        id: id.into(),
        blocks,
    }
}

/// The distinct (dataset, model) pairs of the jobs and metrics.
fn scopes(t: &RunTables) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let jobs = t
        .jobs
        .iter()
        .map(|j| (j.dataset.as_str(), j.model.as_str()));
    let metrics = t
        .metrics
        .iter()
        .map(|r| (r.dataset.as_str(), r.model.as_str()));
    for p in jobs.chain(metrics) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Each loss label with its resolved parameters, from the jobs' configs
/// (a labelled loss is `{"label": .., "spec": ..}`, else the spec itself:
/// a name, or `{name: {param: value}}`); `None` without jobs.
fn losses(t: &RunTables) -> Option<Block> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for job in &t.jobs {
        if rows.iter().any(|r| r[0] == job.loss) {
            continue;
        }
        let config: serde_json::Value = serde_json::from_str(&job.config).unwrap_or_default();
        let loss = &config["loss"];
        let spec = loss.get("spec").unwrap_or(loss);
        let params = match spec.as_object().and_then(|o| o.iter().next()) {
            Some((name, serde_json::Value::Object(params))) => {
                let each = params.iter().map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!("{}={v}", k.replace('_', "-"))
                });
                format!("{name}: {}", each.collect::<Vec<_>>().join(", "))
            }
            _ => spec.as_str().unwrap_or("(unknown)").to_owned(),
        };
        rows.push(vec![job.loss.clone(), params]);
    }
    (!rows.is_empty()).then(|| {
        Block::Table(Table {
            head: vec!["loss".into(), "parameters".into()],
            rows,
            first_value: 2,
            loss_column: Some(0),
            bold: Vec::new(),
        })
    })
}

fn header(m: &Manifest, pairs: &[(&str, &str)]) -> Table {
    let mut rows = Vec::new();
    let mut row = |k: &str, v: String| rows.push(vec![k.to_owned(), v]);
    row("suite", format!("{} (`{}`)", m.suite_name, m.suite_file));
    if let [(dataset, model)] = pairs {
        row("dataset / model", format!("{dataset} / {model}"));
    }
    row("run id", m.run_id.clone());
    if let Some(detectors) = detector_settings(&m.suite) {
        row("detectors", detectors);
    }
    row(
        "status",
        match m.status {
            RunStatus::Interrupted => {
                "interrupted (stopped before its jobs were through; a rerun of the suite \
                 continues it)"
                    .to_owned()
            }
            s => s.to_string(),
        },
    );
    row("device", m.device.clone());
    row(
        "lossbench",
        format!(
            "{} (tch {}, libtorch {})",
            m.lossbench_version, m.tch_version, m.libtorch_version
        ),
    );
    row(
        "git commit",
        m.git_commit
            .as_deref()
            .map_or_else(|| "unknown".into(), |c| c.chars().take(12).collect()),
    );
    row(
        "started",
        match &m.finished_at {
            Some(end) => format!(
                "{} (finished {})",
                to_seconds(&m.started_at),
                to_seconds(end)
            ),
            None => format!("{} (not finished)", to_seconds(&m.started_at)),
        },
    );
    row(
        "wall time",
        if m.jobs_reused > 0 {
            format!(
                "{:.1} s (the last invocation; {} job(s) reused from earlier ones, \
                 their own times are under Timing)",
                m.wall_seconds, m.jobs_reused
            )
        } else {
            format!("{:.1} s", m.wall_seconds)
        },
    );
    row(
        "jobs",
        format!(
            "{} total: {} done, {} failed, {} reused",
            m.jobs_total, m.jobs_done, m.jobs_failed, m.jobs_reused
        ),
    );
    Table {
        head: vec![String::new(), String::new()],
        rows,
        first_value: 2,
        loss_column: None,
        bold: Vec::new(),
    }
}

/// The resolved detectors of the suite with every parameter (in the
/// resolved JSON's key order), as
/// `` `kd(sigma=auto)`, `lid(batch=100, c=auto, k=20, noisy-negatives=true)` ``:
/// which options were on (docs/definitions.md §3). `None` when the suite
/// lists none.
fn detector_settings(suite: &serde_json::Value) -> Option<String> {
    let items = suite.get("detectors")?.as_array()?;
    let each: Vec<String> = items
        .iter()
        .filter_map(|d| match d {
            serde_json::Value::String(name) => Some(format!("`{name}`")),
            serde_json::Value::Object(one) => {
                let (name, params) = one.iter().next()?;
                let params: Vec<String> = params
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        format!("{}={v}", k.replace('_', "-"))
                    })
                    .collect();
                Some(format!("`{name}({})`", params.join(", ")))
            }
            _ => None,
        })
        .collect();
    (!each.is_empty()).then(|| each.join(", "))
}

/// An RFC 3339 time to whole seconds, `2026-11-29T12:30:48.395055169+00:00`
/// → `2026-11-29 12:30:48 UTC`; other text unchanged.
fn to_seconds(time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => time.to_owned(),
    }
}

/// Text on one line: runs of whitespace become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Markdown text that renders no HTML from the values in it: `<` and `>`
/// outside code spans become `&lt;` and `&gt;` (inside a code span they
/// are shown as they are, and renderers never read them as markup). Every
/// value a Markdown output takes from a file (a loss or attack name, an
/// error, a path) goes through this, so a table cell cannot carry a
/// `<script>` or an `<img onerror>` into a rendered page.
pub(crate) fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            // A run of n backticks opens a code span that the next run of
            // exactly n closes (CommonMark); without one, the run is text.
            let n = rest.len() - rest.trim_start_matches('`').len();
            let after = &rest[n..];
            let run = &rest[..n];
            let close = after.char_indices().map(|(i, _)| i).find(|&i| {
                after[i..].starts_with(run)
                    && !after[i + n..].starts_with('`')
                    && !after[..i].ends_with('`')
            });
            let span = close.map_or(n, |i| n + i + n);
            out.push_str(&rest[..span]);
            rest = &rest[span..];
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod md_tests {
    use super::md_text;

    #[test]
    fn markup_outside_code_spans_is_escaped_and_code_spans_are_kept() {
        assert_eq!(
            md_text("loss <script>alert(1)</script>"),
            "loss &lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            md_text("`a<b>` and <img onerror=x>"),
            "`a<b>` and &lt;img onerror=x&gt;"
        );
        // A backtick inside a value cannot open a span that swallows markup.
        assert_eq!(md_text("`x`<b>`"), "`x`&lt;b&gt;`");
        assert_eq!(md_text("``a`b`` <i>"), "``a`b`` &lt;i&gt;");
        assert_eq!(md_text("no markup: é, ↑, 0.5"), "no markup: é, ↑, 0.5");
    }
}

#[cfg(test)]
#[allow(clippy::needless_update)] // literals take the declared defaults
mod setting_tests {
    use super::detector_settings;
    use crate::suite::spec::{KdParams, LidParams};
    use crate::suite::{AutoOr, DetectorSpec};

    #[test]
    fn the_header_lists_every_detector_with_its_resolved_parameters() {
        let detectors = vec![
            DetectorSpec::MaxSoftmax,
            DetectorSpec::Kd(KdParams {
                sigma: AutoOr::Auto,
                ..Default::default()
            }),
            DetectorSpec::Lid(LidParams {
                noisy_negatives: false,
                c: AutoOr::Fixed(0.5),
                ..Default::default()
            }),
        ];
        let suite = serde_json::json!({ "detectors": detectors });
        assert_eq!(
            detector_settings(&suite).unwrap(),
            "`max-softmax`, `kd(sigma=auto)`, \
             `lid(batch=100, c=0.5, k=20, noisy-negatives=false)`"
        );
        assert_eq!(
            detector_settings(&serde_json::json!({"detectors": []})),
            None
        );
        assert_eq!(detector_settings(&serde_json::json!({})), None);
    }
}
