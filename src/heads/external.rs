//! `external`: the head of an external model (`model: torchscript`), which
//! lossbench neither sees nor trains. The model's logits come from the model
//! itself ([`crate::train::Net::logits`], [`crate::train::Net::logits_of`]);
//! this head only stands in the place of one.

use tch::Tensor;

use super::{Head, Progress};

#[derive(Debug)]
pub struct ExternalHead {
    /// The net hands on its logits as its features (a model that returns
    /// logits only), so the logits of those "features" are themselves.
    passthrough: bool,
}

impl ExternalHead {
    pub fn new(passthrough: bool) -> ExternalHead {
        ExternalHead { passthrough }
    }
}

impl Head for ExternalHead {
    /// The features themselves when they are the model's logits. For a
    /// model with features of its own no head maps them to logits, and
    /// lossbench asks the model (`Net::logits_of`); being called then is a
    /// bug, which fails the job.
    fn logits(&self, f: &Tensor) -> Tensor {
        if self.passthrough {
            return f.shallow_clone();
        }
        panic!("internal error: the logits of an external model come from the model, not from its features")
    }

    fn loss(&self, _f: &Tensor, _y: &Tensor, _at: Progress) -> Tensor {
        panic!("internal error: an external model is not trained")
    }
}
