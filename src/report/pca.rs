//! A two-component PCA in plain Rust, for the feature-distribution figure
//! when features have more than two dimensions.
//!
//! ```text
//! x̄ = mean of the rows            C = (X − x̄)ᵀ(X − x̄) / (N − 1)
//! Q ← orthonormalise(C·Q)          (block power iteration, two columns)
//! Q ← Q·R, R the eigenvectors of QᵀCQ (Rayleigh–Ritz: orders the pair)
//! projection = (X − x̄)·Q           explained_k = λ_k / trace(C)
//! ```
//!
//! Each component's sign is fixed so that its largest-magnitude entry is
//! positive, which makes the picture the same from render to render.
//!
//! # Shapes
//!
//! `rows`: N × D (D ≥ 2) → `points`: N × 2, `components`: 2 × D.

/// Rows projected onto the two leading principal components.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    pub points: Vec<[f64; 2]>,
    /// The unit components, leading first.
    pub components: [Vec<f64>; 2],
    /// Fraction of the total variance along each component.
    pub explained: [f64; 2],
}

/// Most power iterations; the figure needs no more precision than this
/// gives even for close leading eigenvalues.
const MAX_ITERS: usize = 500;
const TOL: f64 = 1e-12;

/// The two-component PCA of `rows` (all of length D ≥ 2; N ≥ 1).
pub(crate) fn pca2(rows: &[Vec<f64>]) -> Projection {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    assert!(
        d >= 2 && rows.iter().all(|r| r.len() == d),
        "pca2 needs N × D rows, D ≥ 2"
    );
    let mut mean = vec![0.0; d];
    for r in rows {
        for (m, x) in mean.iter_mut().zip(r) {
            *m += x / n as f64;
        }
    }
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(x, m)| x - m).collect())
        .collect();
    let denom = (n.max(2) - 1) as f64;
    let mut cov = vec![vec![0.0; d]; d];
    for r in &centred {
        for (row, ri) in cov.iter_mut().zip(r) {
            for (c, rj) in row.iter_mut().zip(r) {
                *c += ri * rj / denom;
            }
        }
    }
    let trace: f64 = (0..d).map(|i| cov[i][i]).sum();

    // Deterministic start: two non-parallel vectors.
    let mut q = [
        (0..d)
            .map(|i| 1.0 + i as f64 / d as f64)
            .collect::<Vec<_>>(),
        (0..d)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect(),
    ];
    orthonormalise(&mut q);
    for _ in 0..MAX_ITERS {
        let mut z = [mat_vec(&cov, &q[0]), mat_vec(&cov, &q[1])];
        orthonormalise(&mut z);
        let change = (0..2)
            .map(|k| 1.0 - dot(&z[k], &q[k]).abs())
            .fold(0.0, f64::max);
        q = z;
        if change < TOL {
            break;
        }
    }

    // Rayleigh–Ritz on the 2-D subspace: H = QᵀCQ = [[a, b], [b, c]].
    let cq = [mat_vec(&cov, &q[0]), mat_vec(&cov, &q[1])];
    let (a, b, c) = (dot(&q[0], &cq[0]), dot(&q[0], &cq[1]), dot(&q[1], &cq[1]));
    let theta = 0.5 * (2.0 * b).atan2(a - c);
    let (s, co) = theta.sin_cos();
    let mut comps = [
        q[0].iter()
            .zip(&q[1])
            .map(|(x, y)| co * x + s * y)
            .collect::<Vec<_>>(),
        q[0].iter()
            .zip(&q[1])
            .map(|(x, y)| -s * x + co * y)
            .collect(),
    ];
    let lambda = [
        a * co * co + 2.0 * b * s * co + c * s * s,
        a * s * s - 2.0 * b * s * co + c * co * co,
    ];
    for v in &mut comps {
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    let points = centred
        .iter()
        .map(|r| [dot(r, &comps[0]), dot(r, &comps[1])])
        .collect();
    let explained = if trace > 0.0 {
        [lambda[0] / trace, lambda[1] / trace]
    } else {
        [0.0, 0.0]
    };
    Projection {
        points,
        components: comps,
        explained,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn mat_vec(m: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    m.iter().map(|row| dot(row, v)).collect()
}

/// Gram–Schmidt on two vectors. A vector that vanishes (a rank-deficient
/// covariance) is replaced by the unit axis least aligned with the other,
/// so the result is always an orthonormal pair.
fn orthonormalise(q: &mut [Vec<f64>; 2]) {
    let d = q[0].len();
    let n0 = dot(&q[0], &q[0]).sqrt();
    if n0 > f64::MIN_POSITIVE.sqrt() {
        q[0].iter_mut().for_each(|x| *x /= n0);
    } else {
        q[0] = axis(d, 0);
    }
    let p = dot(&q[0], &q[1]);
    let (first, second) = q.split_at_mut(1);
    second[0]
        .iter_mut()
        .zip(&first[0])
        .for_each(|(x, y)| *x -= p * y);
    let n1 = dot(&q[1], &q[1]).sqrt();
    if n1 > 1e-12 * n0.max(1e-300) && n1 > f64::MIN_POSITIVE.sqrt() {
        q[1].iter_mut().for_each(|x| *x /= n1);
    } else {
        let k = (0..d)
            .min_by(|&i, &j| q[0][i].abs().total_cmp(&q[0][j].abs()))
            .unwrap_or(0);
        let mut e = axis(d, k);
        let p = q[0][k];
        e.iter_mut().zip(&q[0]).for_each(|(x, y)| *x -= p * y);
        let ne = dot(&e, &e).sqrt();
        e.iter_mut().for_each(|x| *x /= ne);
        q[1] = e;
    }
}

fn axis(d: usize, k: usize) -> Vec<f64> {
    let mut e = vec![0.0; d];
    e[k] = 1.0;
    e
}

#[cfg(test)]
mod tests {
    use super::pca2;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    fn data() -> Vec<Vec<f64>> {
        vec![
            vec![2.5, 2.4, 0.5, 1.0],
            vec![0.5, 0.7, -0.3, 2.0],
            vec![2.2, 2.9, 0.1, -1.0],
            vec![1.9, 2.2, 0.4, 0.5],
            vec![3.1, 3.0, -0.2, 0.0],
            vec![2.3, 2.7, 0.3, 1.5],
            vec![2.0, 1.6, -0.1, -0.5],
            vec![1.0, 1.1, 0.2, 0.3],
        ]
    }

    /// Expected values from numpy (the project venv), signs fixed as here:
    ///
    /// ```python
    /// import numpy as np
    /// X = np.array(<data() above>)
    /// Xc = X - X.mean(0); C = np.cov(X, rowvar=False)
    /// w, V = np.linalg.eigh(C); V = V[:, ::-1][:, :2]; w = w[::-1]
    /// V *= np.sign(V[np.abs(V).argmax(0), range(2)])
    /// print(V.T, (w / w.sum())[:2], (Xc @ V)[:2])
    /// ```
    #[test]
    fn matches_numpy() {
        let p = pca2(&data());
        let v0 = [0.57585402, 0.5887081, 0.04360548, -0.56560895];
        let v1 = [0.37359863, 0.41498182, 0.11690674, 0.82130809];
        let explained = [0.67374129, 0.27421641];
        let first_points = [[0.23520044, 0.82150642], [-2.5178047, 0.09662278]];
        let all_close = |got: &[f64], want: &[f64]| {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| close(*g, *w, 1e-6))
        };
        assert!(all_close(&p.components[0], &v0), "{:?}", p.components);
        assert!(all_close(&p.components[1], &v1), "{:?}", p.components);
        assert!(all_close(&p.explained, &explained), "{:?}", p.explained);
        for (got, want) in p.points.iter().zip(&first_points) {
            assert!(all_close(got, want), "{:?}", p.points);
        }
    }

    #[test]
    fn invariants() {
        let p = pca2(&data());
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        assert!(close(dot(&p.components[0], &p.components[0]), 1.0, 1e-12));
        assert!(close(dot(&p.components[1], &p.components[1]), 1.0, 1e-12));
        assert!(dot(&p.components[0], &p.components[1]).abs() < 1e-10);
        assert!(p.explained[0] >= p.explained[1] && p.explained[0] + p.explained[1] <= 1.0 + 1e-12);
        // Projections are centred.
        let mean0: f64 = p.points.iter().map(|q| q[0]).sum::<f64>() / p.points.len() as f64;
        assert!(mean0.abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        // Constant features: zero covariance.
        let p = pca2(&[vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]]);
        assert!(p
            .points
            .iter()
            .flatten()
            .all(|x| x.is_finite() && *x == 0.0));
        assert_eq!(p.explained, [0.0, 0.0]);
        // Rank one: the second component is any unit vector orthogonal to the first.
        let p = pca2(&[
            vec![0.0, 0.0, 0.0],
            vec![1.0, 1.0, 1.0],
            vec![2.0, 2.0, 2.0],
        ]);
        assert!(close(p.explained[0], 1.0, 1e-9));
        assert!(p.points.iter().flatten().all(|x| x.is_finite()));
        // One sample.
        let p = pca2(&[vec![3.0, 4.0]]);
        assert_eq!(p.points, vec![[0.0, 0.0]]);
    }
}
