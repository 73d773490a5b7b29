//! Binary logistic regression for the supervised detectors (`kd-bu`, `lid`,
//! docs/definitions.md §3): features z-scored on the fit set, then an L2-regularised fit of
//! scikit-learn's `LogisticRegression(C=1.0)` objective, solved exactly by
//! Newton's method in f64. The detectors' few features (2 for `kd-bu`, one per
//! layer for `lid`) keep the Hessian tiny, so plain Rust is enough; this room
//! knows nothing of tensors or models.

/// Why the regression could not be fitted. The detector that fits it
/// wraps it into [`crate::Error::Detector`] with its own name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("logistic regression: {0}")]
pub struct FitError(String);

type Result<T, E = FitError> = std::result::Result<T, E>;

/// scikit-learn's default inverse regularisation strength.
pub const DEFAULT_C: f64 = 1.0;
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
        let n = y.len();
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
        let mut fitted = StandardizedLogistic {
            mean,
            scale,
            model: LogisticRegression {
                coef: vec![],
                intercept: 0.0,
            },
        };
        let z = fitted.transform(x);
        fitted.model = LogisticRegression::fit(&z, d, y, c)?;
        Ok(fitted)
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
