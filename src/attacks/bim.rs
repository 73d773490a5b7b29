//! BIM, the basic iterative method (Kurakin et al. 2017), SPEC §2.
//!
//! ```text
//! x₀ = x
//! x_{t+1} = clip_{[0,1] ∩ B∞(x, ε)}( x_t + a · sign(∇ CE(z(x_t), y)) ),  t < T
//! ```
//! Projection and clipping every step, no random start. `stop: last` (BIM-b)
//! runs all T steps; `stop: first` (BIM-a) freezes a sample at the first step
//! where it is misclassified. `iters` counts the steps applied to each sample.
//!
//! # Shapes
//! `x, x': [N, C, H, W]`, `y: [N]`.

use tch::{Kind, Reduction, Tensor};

use super::{finish, summarize, AdvBatch, Attack};
use crate::suite::BimStop;
use crate::train::Net;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bim {
    pub eps: f64,
    /// Step size `a`.
    pub step_size: f64,
    pub steps: usize,
    pub stop: BimStop,
}

impl Attack for Bim {
    fn label(&self) -> String {
        let stop = match self.stop {
            BimStop::First => "first",
            BimStop::Last => "last",
        };
        format!(
            "bim(eps={},a={},T={},stop={stop})",
            self.eps, self.step_size, self.steps
        )
    }

    fn run(&self, net: &Net, x: &Tensor, y: &Tensor) -> AdvBatch {
        let n = x.size()[0];
        let lo = (x - self.eps).clamp_min(0.0);
        let hi = (x + self.eps).clamp_max(1.0);
        let mut xt = x.detach();
        let mut active = Tensor::ones([n], (Kind::Bool, x.device()));
        let mut iters = Tensor::zeros([n], (Kind::Int64, x.device()));
        for _ in 0..self.steps {
            let xg = xt.detach().set_requires_grad(true);
            let logits = net.logits(&xg);
            if self.stop == BimStop::First {
                let fooled = tch::no_grad(|| logits.argmax(1, false).ne_tensor(y));
                active = active.logical_and(&fooled.logical_not());
                if active.any().int64_value(&[]) == 0 {
                    // Every sample was frozen on a misclassified iterate:
                    // no forward pass needed to know the outcome.
                    let success = Tensor::ones([n], (Kind::Bool, x.device()));
                    return summarize(x, xt, success, iters);
                }
            }
            let loss = logits.cross_entropy_loss::<Tensor>(y, None, Reduction::Sum, -100, 0.0);
            let g = Tensor::run_backward(&[loss], &[&xg], false, false)
                .pop()
                .expect("one input, one gradient");
            xt = tch::no_grad(|| {
                let mask = active.view([n, 1, 1, 1]).to_kind(x.kind());
                let stepped = (&xt + g.sign() * (self.step_size) * &mask)
                    .maximum(&lo)
                    .minimum(&hi);
                iters += active.to_kind(Kind::Int64);
                stepped
            });
        }
        finish(net, x, xt, y, iters)
    }
}
