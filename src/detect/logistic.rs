//! Binary logistic regression for the supervised detectors (`kd-bu`, `lid`,
//! docs/definitions.md §3): features z-scored on the fit set, then an L2-regularised fit of
//! scikit-learn's `LogisticRegression(C)` objective, solved exactly by
//! Newton's method in f64, with `C` given or chosen by cross-validation as
//! scikit-learn's `LogisticRegressionCV` chooses it ([`LogisticRegression::fit_cv`]).
//! The detectors' few features (2 for `kd-bu`, one per layer for `lid`) keep
//! the Hessian tiny, so plain Rust is enough; this room knows nothing of
//! tensors or models.

/// Why the regression could not be fitted. The detector that fits it
/// wraps it into [`crate::Error::Detector`] with its own name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("logistic regression: {0}")]
pub struct FitError(String);

type Result<T, E = FitError> = std::result::Result<T, E>;

/// scikit-learn's default inverse regularisation strength.
pub const DEFAULT_C: f64 = 1.0;
/// Folds of the cross-validation: scikit-learn's default `cv=5`.
pub const CV_FOLDS: usize = 5;
/// Candidates of `C` in the cross-validation: scikit-learn's default `Cs=10`.
pub const CV_CS: usize = 10;
/// Newton stops once every gradient component is below this, relative to
/// `max(1, C·n)` (the scale of the data term).
const GRAD_TOL: f64 = 1e-10;
const MAX_ITER: usize = 100;
/// Below this Newton decrement (relative to `max(1, |L|)`) steps are taken
/// in full, without line search.
const PURE_NEWTON: f64 = 1e-8;

fn fit_error(msg: String) -> FitError {
    FitError(msg)
}

/// `log(1 + exp(t))` without overflow.
fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// The logistic function without overflow.
fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

fn check_finite(x: &[f64], d: usize) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(fit_error(format!(
            "feature {} of sample {} is {}",
            i % d,
            i / d,
            x[i]
        ))),
        None => Ok(()),
    }
}

/// A fitted linear decision function `t(x) = w·x + b`.
///
/// Fitted by minimising scikit-learn's objective for `penalty="l2"` (the
/// intercept is not penalised):
///
/// ```text
/// L(w, b) = ½‖w‖² + C · Σ_i log(1 + exp(−s_i (w·x_i + b))),   s_i = +1 (positive) / −1
/// ```
///
/// with Newton steps `Δ = −H⁻¹∇L` (Armijo backtracking while the Newton
/// decrement `λ² = ∇Lᵀ H⁻¹ ∇L` is large, full steps once it is below
/// `1e-8·max(1, |L|)`), until `max |∇L| ≤ 1e-10·max(1, C·n)` or `λ²` is below
/// what f64 resolves, where
/// `∇L = (w, 0) − C Σ_i s_i σ(−s_i t_i) (x_i, 1)` and
/// `H = diag(1, …, 1, 0) + C Σ_i σ(t_i)(1 − σ(t_i)) (x_i, 1)(x_i, 1)ᵀ`.
///
/// # Shapes
/// `x`: `n` rows of `d` features, row-major (`x.len() = n·d`); `y`: `n` labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    /// `w`, `[d]`.
    pub coef: Vec<f64>,
    /// `b`.
    pub intercept: f64,
}

impl LogisticRegression {
    /// Fits on `x` (`n × d`, row-major) and labels `y` (`true` = positive)
    /// with inverse regularisation `c`. Both classes must be present and every
    /// feature finite.
    pub fn fit(x: &[f64], d: usize, y: &[bool], c: f64) -> Result<LogisticRegression> {
        let n = y.len();
        if d == 0 || x.len() != n * d {
            return Err(fit_error(format!(
                "{} values for {n} samples of {d} features",
                x.len()
            )));
        }
        let n_pos = y.iter().filter(|&&v| v).count();
        if n_pos == 0 || n_pos == n {
            return Err(fit_error(format!(
                "needs both classes, got {n_pos} positive of {n}"
            )));
        }
        check_finite(x, d)?;
        if !(c > 0.0 && c.is_finite()) {
            return Err(fit_error(format!("C = {c}, must be positive")));
        }
        let p = d + 1;
        let sign = |i: usize| if y[i] { 1.0 } else { -1.0 };
        // θ = (w, b); rows extended with a constant 1 for the intercept.
        let margin = |theta: &[f64], i: usize| -> f64 {
            let row = &x[i * d..(i + 1) * d];
            row.iter().zip(theta).map(|(a, w)| a * w).sum::<f64>() + theta[d]
        };
        let objective = |theta: &[f64]| -> f64 {
            let reg = 0.5 * theta[..d].iter().map(|w| w * w).sum::<f64>();
            reg + c
                * (0..n)
                    .map(|i| softplus(-sign(i) * margin(theta, i)))
                    .sum::<f64>()
        };
        let tol = GRAD_TOL * (c * n as f64).max(1.0);
        let mut theta = vec![0.0; p];
        let mut loss = objective(&theta);
        for _ in 0..MAX_ITER {
            let mut grad = vec![0.0; p];
            let mut hess = vec![0.0; p * p];
            grad[..d].copy_from_slice(&theta[..d]);
            for j in 0..d {
                hess[j * p + j] = 1.0;
            }
            for i in 0..n {
                let t = margin(&theta, i);
                let s = sign(i);
                let g = -c * s * sigmoid(-s * t);
                let q = sigmoid(t);
                let h = c * q * (1.0 - q);
                let row = &x[i * d..(i + 1) * d];
                let ext = |j: usize| if j < d { row[j] } else { 1.0 };
                for a in 0..p {
                    grad[a] += g * ext(a);
                    for b in 0..=a {
                        hess[a * p + b] += h * ext(a) * ext(b);
                    }
                }
            }
            if grad.iter().all(|g| g.abs() <= tol) {
                return Ok(LogisticRegression {
                    coef: theta[..d].to_vec(),
                    intercept: theta[d],
                });
            }
            for a in 0..p {
                for b in 0..a {
                    hess[b * p + a] = hess[a * p + b];
                }
            }
            let step = solve_spd(&hess, &grad, p)
                .ok_or_else(|| fit_error("singular Hessian".to_string()))?;
            // Newton decrement λ² = ∇Lᵀ H⁻¹ ∇L: twice the decrease the step
            // promises.
            let decrement: f64 = grad.iter().zip(&step).map(|(g, s)| g * s).sum();
            let scale = loss.abs().max(1.0);
            if decrement <= (f64::EPSILON * scale).powi(2) {
                // Nothing left that f64 can resolve.
                return Ok(LogisticRegression {
                    coef: theta[..d].to_vec(),
                    intercept: theta[d],
                });
            }
            if decrement <= PURE_NEWTON * scale {
                // Quadratic-convergence region: take the full step. Armijo
                // cannot judge it, the promised decrease being below the
                // rounding of L (it stalls around |∇L| ~ 1e-7 otherwise).
                for (t, s) in theta.iter_mut().zip(&step) {
                    *t -= s;
                }
                loss = objective(&theta);
                continue;
            }
            // Damped phase: Armijo backtracking along the Newton direction.
            let slope = -decrement;
            let mut alpha = 1.0;
            loop {
                let cand: Vec<f64> = theta
                    .iter()
                    .zip(&step)
                    .map(|(t, s)| t - alpha * s)
                    .collect();
                let l = objective(&cand);
                if l <= loss + 1e-4 * alpha * slope || alpha < 1e-10 {
                    theta = cand;
                    loss = l;
                    break;
                }
                alpha *= 0.5;
            }
        }
        Err(fit_error(format!(
            "Newton did not converge in {MAX_ITER} iterations"
        )))
    }

    /// `t(x) = w·x + b` for every row of `x` (`n × d`, row-major).
    pub fn decision_function(&self, x: &[f64]) -> Vec<f64> {
        let d = self.coef.len();
        x.chunks_exact(d)
            .map(|row| row.iter().zip(&self.coef).map(|(a, w)| a * w).sum::<f64>() + self.intercept)
            .collect()
    }
}

/// The candidates of `C`, as scikit-learn's `LogisticRegressionCV(Cs=n)`
/// makes them: `np.logspace(-4, 4, n)`, i.e. `10^(−4 + 8i/(n−1))`,
/// `i = 0..n`, the last exactly `1e4`.
pub fn cv_grid(n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![1e-4],
        _ => {
            let step = 8.0 / (n - 1) as f64;
            (0..n)
                .map(|i| match i == n - 1 {
                    true => 1e4,
                    false => 10f64.powf(-4.0 + i as f64 * step),
                })
                .collect()
        }
    }
}

/// The fold (`0..n_splits`) of every sample, as scikit-learn's
/// `StratifiedKFold(n_splits, shuffle=False)` assigns them: the classes,
/// numbered in order of first appearance, are dealt round-robin over the
/// folds from the sorted labels, and each class's samples, in data order,
/// fill the folds in blocks of those sizes.
pub fn stratified_folds(y: &[bool], n_splits: usize) -> Vec<usize> {
    let n = y.len();
    let Some(&first) = y.first() else {
        return Vec::new();
    };
    // Class 0 is the label of the first sample.
    let class = |v: bool| usize::from(v != first);
    let n0 = y.iter().filter(|&&v| class(v) == 0).count();
    // allocation[f][k]: samples of class k in test fold f.
    let mut allocation = vec![[0usize; 2]; n_splits];
    for (f, alloc) in allocation.iter_mut().enumerate() {
        for j in (f..n).step_by(n_splits) {
            alloc[usize::from(j >= n0)] += 1;
        }
    }
    let mut folds = vec![0; n];
    for k in 0..2 {
        let mut blocks = allocation
            .iter()
            .enumerate()
            .flat_map(|(f, alloc)| std::iter::repeat_n(f, alloc[k]));
        for (i, &v) in y.iter().enumerate() {
            if class(v) == k {
                folds[i] = blocks.next().expect("the allocation covers every sample");
            }
        }
    }
    folds
}

/// What the cross-validation of [`LogisticRegression::fit_cv`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct CvChoice {
    /// The chosen `C`.
    pub c: f64,
    /// The folds used: [`CV_FOLDS`], or fewer when a class has fewer samples.
    pub folds: usize,
    /// The candidates, and the mean validation accuracy of each.
    pub cs: Vec<f64>,
    pub accuracy: Vec<f64>,
}

impl LogisticRegression {
    /// Fits with `C` chosen by stratified k-fold cross-validation, as
    /// scikit-learn's `LogisticRegressionCV(Cs=cs, cv=n_splits,
    /// scoring="accuracy", refit=True)`:
    ///
    /// ```text
    /// folds    = stratified_folds(y, k),   k = min(n_splits, smallest class count)
    /// acc_f(C) = fraction of fold f predicted right (t > 0 = positive) by the fit on the other folds
    /// C*       = first argmax_C Σ_f acc_f(C)          (the smallest C among ties)
    /// model    = fit(x, y, C*) on all samples
    /// ```
    ///
    /// scikit-learn warns and keeps `n_splits` when a class has fewer
    /// samples than folds; here the folds shrink to that count instead, so
    /// every validation fold holds both classes. At least 2 samples of each
    /// class are needed.
    pub fn fit_cv(
        x: &[f64],
        d: usize,
        y: &[bool],
        cs: &[f64],
        n_splits: usize,
    ) -> Result<(LogisticRegression, CvChoice)> {
        let n = y.len();
        if d == 0 || x.len() != n * d {
            return Err(fit_error(format!(
                "{} values for {n} samples of {d} features",
                x.len()
            )));
        }
        let n_pos = y.iter().filter(|&&v| v).count();
        let k = n_splits.min(n_pos).min(n - n_pos);
        if k < 2 {
            return Err(fit_error(format!(
                "cross-validation needs at least 2 samples of each class, got {n_pos} positive \
                 of {n}"
            )));
        }
        if cs.is_empty() {
            return Err(fit_error("no candidate C to cross-validate".to_string()));
        }
        check_finite(x, d)?;
        let folds = stratified_folds(y, k);
        let mut total = vec![0.0; cs.len()];
        for f in 0..k {
            let (mut xt, mut yt, mut xv, mut yv) = (vec![], vec![], vec![], vec![]);
            for i in 0..n {
                let row = &x[i * d..(i + 1) * d];
                if folds[i] == f {
                    xv.extend_from_slice(row);
                    yv.push(y[i]);
                } else {
                    xt.extend_from_slice(row);
                    yt.push(y[i]);
                }
            }
            for (sum, &c) in total.iter_mut().zip(cs) {
                let m = LogisticRegression::fit(&xt, d, &yt, c)?;
                let right = m
                    .decision_function(&xv)
                    .iter()
                    .zip(&yv)
                    .filter(|(t, &v)| (**t > 0.0) == v)
                    .count();
                // As scikit-learn: each fold's accuracy, summed in fold order.
                *sum += right as f64 / yv.len() as f64;
            }
        }
        let mut best = 0;
        for (i, s) in total.iter().enumerate() {
            if *s > total[best] {
                best = i;
            }
        }
        let model = LogisticRegression::fit(x, d, y, cs[best])?;
        let choice = CvChoice {
            c: cs[best],
            folds: k,
            cs: cs.to_vec(),
            accuracy: total.iter().map(|s| s / k as f64).collect(),
        };
        Ok((model, choice))
    }
}

/// Solves `A v = b` for a symmetric positive definite `A` (`p × p`, row-major)
/// by Cholesky; `None` when `A` is not numerically positive definite.
fn solve_spd(a: &[f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = a[i * p + j] - (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum::<f64>();
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        z[i] = (b[i] - (0..i).map(|k| l[i * p + k] * z[k]).sum::<f64>()) / l[i * p + i];
    }
    let mut v = vec![0.0; p];
    for i in (0..p).rev() {
        v[i] = (z[i] - (i + 1..p).map(|k| l[k * p + i] * v[k]).sum::<f64>()) / l[i * p + i];
    }
    Some(v)
}

/// Standardisation then [`LogisticRegression`]: scikit-learn's
/// `make_pipeline(StandardScaler(), LogisticRegression(C))`.
///
/// ```text
/// z_j = (x_j − mean_j) / sd_j,   sd_j = sqrt((1/n) Σ_i (x_ij − mean_j)²)   (sd_j = 1 when ≈ 0)
/// score(x) = w·z + b
/// ```
///
/// # Shapes
/// As [`LogisticRegression`]: `n × d` row-major features, `n` labels.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardizedLogistic {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub model: LogisticRegression,
}

impl StandardizedLogistic {
    /// Fits the scaler and the regression on `x` (`n × d`), `y` (`true` = positive).
    pub fn fit(x: &[f64], d: usize, y: &[bool], c: f64) -> Result<StandardizedLogistic> {
        let mut fitted = StandardizedLogistic::scaler(x, d, y.len())?;
        fitted.model = LogisticRegression::fit(&fitted.transform(x), d, y, c)?;
        Ok(fitted)
    }

    /// Fits the scaler on all of `x`, then the regression on the z-scored
    /// features with `C` chosen by [`LogisticRegression::fit_cv`]: scikit-learn's
    /// `LogisticRegressionCV(Cs, cv=n_splits).fit(StandardScaler().fit_transform(x), y)`.
    pub fn fit_cv(
        x: &[f64],
        d: usize,
        y: &[bool],
        cs: &[f64],
        n_splits: usize,
    ) -> Result<(StandardizedLogistic, CvChoice)> {
        let mut fitted = StandardizedLogistic::scaler(x, d, y.len())?;
        let (model, choice) = LogisticRegression::fit_cv(&fitted.transform(x), d, y, cs, n_splits)?;
        fitted.model = model;
        Ok((fitted, choice))
    }

    /// The scaler of `x` (`n × d`), with an empty regression.
    fn scaler(x: &[f64], d: usize, n: usize) -> Result<StandardizedLogistic> {
        if d == 0 || x.len() != n * d || n == 0 {
            return Err(fit_error(format!(
                "{} values for {n} samples of {d} features",
                x.len()
            )));
        }
        check_finite(x, d)?;
        let mut mean = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v / n as f64;
            }
        }
        let mut scale = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for ((s, v), m) in scale.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m) / n as f64;
            }
        }
        for s in &mut scale {
            *s = s.sqrt();
            // As scikit-learn's `_handle_zeros_in_scale`: a constant feature
            // is centred but not scaled.
            if *s < 10.0 * f64::EPSILON {
                *s = 1.0;
            }
        }
        Ok(StandardizedLogistic {
            mean,
            scale,
            model: LogisticRegression {
                coef: vec![],
                intercept: 0.0,
            },
        })
    }

    /// The z-scored features.
    pub fn transform(&self, x: &[f64]) -> Vec<f64> {
        let d = self.mean.len();
        x.chunks_exact(d)
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.scale)
                    .map(|((v, m), s)| (v - m) / s)
            })
            .collect()
    }

    /// `w·z(x) + b` per row: higher = more likely positive (adversarial).
    pub fn decision_function(&self, x: &[f64]) -> Vec<f64> {
        self.model.decision_function(&self.transform(x))
    }
}
