//! `torchscript`: a classifier someone else built, loaded from a TorchScript
//! file (`torch.jit.trace` or `torch.jit.script`) and evaluated as it is.
//!
//! The module's `forward` takes images `[N, C, H, W]` in [0, 1] (float32,
//! the dataset's shape; any normalisation is the module's own) and returns
//! the logits `[N, K]`, or a tuple `(logits [N, K], features [N, D])`.
//! Which of the two it returns is found by one probe when the file is
//! loaded, with the shapes: a module that raises on the dataset's images or
//! returns anything else is refused there with an [`Error::Model`] that
//! says what was expected, before any job runs.
//!
//! The module runs in eval mode, always (it is never trained here), with
//! its parameters frozen: attacks differentiate it with respect to its
//! input only.

use std::path::{Path, PathBuf};

use tch::{CModule, Device, IValue, Kind, Tensor};

use crate::{Error, Result};

/// A loaded TorchScript classifier.
#[derive(Debug)]
pub struct ExternalModel {
    module: CModule,
    features: bool,
    file: PathBuf,
}

impl ExternalModel {
    /// Loads the module from the bytes of `file` onto `device`, and probes
    /// it with two images of `shape` for its outputs: logits of `classes`
    /// classes, and optionally features.
    pub fn load(
        bytes: &[u8],
        file: &Path,
        device: Device,
        shape: [usize; 3],
        classes: usize,
    ) -> Result<ExternalModel> {
        let bad = |msg: String| Error::Model {
            file: file.to_path_buf(),
            msg,
        };
        let mut module = CModule::load_data_on_device(&mut std::io::Cursor::new(bytes), device)
            .map_err(|e| {
                bad(format!(
                    "not a TorchScript module (save one with torch.jit.trace(model, x).save(path) \
                     or torch.jit.script(model).save(path)): {}",
                    first_line(&e.to_string())
                ))
            })?;
        module
            .f_set_eval()
            .map_err(|e| bad(first_line(&e.to_string())))?;
        if let Ok(params) = module.named_parameters() {
            for (_, p) in params {
                let _ = p.set_requires_grad(false);
            }
        }
        let mut model = ExternalModel {
            module,
            features: false,
            file: file.to_path_buf(),
        };
        let [c, h, w] = shape.map(|v| v as i64);
        let x = Tensor::full([2, c, h, w], 0.5, (Kind::Float, device));
        let (logits, features) = tch::no_grad(|| model.try_forward(&x)).map_err(|why| {
            bad(format!(
                "{why}; it must take float32 images [N, C, H, W] = [N, {c}, {h}, {w}] in [0, 1] \
                 (the dataset's shape)"
            ))
        })?;
        let k = classes as i64;
        if logits.size() != [2, k] {
            return Err(bad(format!(
                "its logits must be [N, {k}] (N images, {k} classes of the dataset), got {:?} \
                 for N = 2",
                logits.size()
            )));
        }
        if let Some(f) = &features {
            if f.dim() != 2 || f.size()[0] != 2 || f.size()[1] < 1 {
                return Err(bad(format!(
                    "its features (the second output) must be [N, D], got {:?} for N = 2",
                    f.size()
                )));
            }
        }
        for (what, t) in [("logits", Some(&logits)), ("features", features.as_ref())] {
            if let Some(t) = t {
                if !t.is_floating_point() {
                    return Err(bad(format!(
                        "its {what} must be floating point, got {:?}",
                        t.kind()
                    )));
                }
            }
        }
        model.features = features.is_some();
        Ok(model)
    }

    /// One forward pass: `(logits, features)`, or why the module failed or
    /// returned something else.
    fn try_forward(&self, x: &Tensor) -> std::result::Result<(Tensor, Option<Tensor>), String> {
        let out = self
            .module
            .forward_is(&[IValue::Tensor(x.shallow_clone())])
            .map_err(|e| {
                format!(
                    "the module fails on a batch of images: {}",
                    first_line(&e.to_string())
                )
            })?;
        match out {
            IValue::Tensor(logits) => Ok((logits, None)),
            IValue::Tuple(mut v) | IValue::GenericList(mut v) if v.len() == 2 => {
                let second = v.pop();
                let first = v.pop();
                match (first, second) {
                    (Some(IValue::Tensor(l)), Some(IValue::Tensor(f))) => Ok((l, Some(f))),
                    _ => Err(
                        "its output must be logits, or a tuple (logits, features) of two \
                              tensors; got a pair that is not two tensors"
                            .into(),
                    ),
                }
            }
            IValue::TensorList(mut v) if v.len() == 2 => {
                let f = v.pop();
                Ok((v.pop().expect("two tensors"), f))
            }
            other => Err(format!(
                "its output must be logits, or a tuple (logits, features); got {}",
                describe(&other)
            )),
        }
    }

    /// `(logits [N, K], features [N, D] if the module gives them)`. A
    /// failure here (after the probe passed) is libtorch's, raised as tch
    /// raises its errors, and fails the job.
    pub fn forward(&self, x: &Tensor) -> (Tensor, Option<Tensor>) {
        self.try_forward(x)
            .unwrap_or_else(|why| panic!("Torch(\"{}: {why}\")", self.file.display()))
    }

    /// Whether the module returns features besides its logits.
    pub fn has_features(&self) -> bool {
        self.features
    }
}

/// libtorch's message, cut to what a person reads: from a TorchScript
/// traceback only the error it ends with (`RuntimeError: ...`), and no
/// advice about checkpoints that does not apply.
fn first_line(s: &str) -> String {
    let msg = crate::error::torch_message(s);
    let msg = match msg.rfind("Error: ") {
        Some(i) if msg.contains("Traceback of TorchScript") => {
            let start = msg[..i].rfind(' ').map_or(0, |j| j + 1);
            msg[start..].to_string()
        }
        _ => msg,
    };
    let msg = msg
        .split(" This is an internal miniz error")
        .next()
        .unwrap_or_default();
    msg.trim().to_string()
}

fn describe(v: &IValue) -> String {
    match v {
        IValue::Tuple(t) => format!("a tuple of {}", t.len()),
        IValue::GenericList(t) => format!("a list of {}", t.len()),
        IValue::TensorList(t) => format!("a list of {} tensors", t.len()),
        IValue::GenericDict(_) => "a dict".into(),
        IValue::None => "None".into(),
        _ => "a value that is not a tensor".into(),
    }
}
