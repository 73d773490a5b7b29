//! The raw serde layer: a tree that mirrors the suite YAML key for key.
//!
//! Every struct denies unknown fields and uses kebab-case keys, so a misspelt
//! key or a wrong type fails here, with the file, line, column and field path,
//! before any value is looked at. Optional keys are `Option`s: this layer never
//! invents a value, [`super::validate`] fills the defaults and checks ranges.
//!
//! Models, optimizers, schedules, losses, attacks and detectors are written
//! either as a bare name (`center`) or as a one-key map from the name to its
//! parameters (`{center: {lambda: 0.01}}`). Serde's untagged enums would lose
//! the inner error (an unknown parameter would read "data did not match any
//! variant"), so [`NamedVisitor`] reads that form by hand and hands the
//! parameters to an ordinary `deny_unknown_fields` struct; errors inside them
//! keep their path and position.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::data::DatasetName;

use super::locate::{self, PathSeg};
use super::wording::{self, quoted};

/// The whole suite file, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a suite: a map with `name`, `data`, `model`, `losses` and `seeds`"
)]
pub struct RawSuite {
    /// Required; `[a-z0-9_-]+`, because it names a directory.
    pub name: String,
    /// Free text; default "".
    pub description: Option<String>,
    /// Required.
    pub data: RawData,
    /// Required: a bare name or `{name: {params}}`.
    pub model: RawModel,
    /// The whole section is optional; so is every key in it.
    pub train: Option<RawTrain>,
    /// Required and non-empty.
    pub losses: Vec<RawLoss>,
    /// Required, non-empty and distinct.
    pub seeds: Vec<u64>,
    /// Default: none.
    pub attacks: Option<Vec<RawAttack>>,
    /// Default: none.
    pub detectors: Option<Vec<RawDetector>>,
    /// Metric name -> absolute tolerance; default: none.
    pub regression: Option<Tolerances>,
}

/// `regression:`: metric name -> tolerance. Read by hand because serde's map
/// impl lets a repeated key silently overwrite the first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tolerances(pub BTreeMap<String, f64>);

impl<'de> Deserialize<'de> for Tolerances {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TolerancesVisitor;
        impl<'de> Visitor<'de> for TolerancesVisitor {
            type Value = Tolerances;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from metric name to tolerance")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tolerances, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(metric) = map.next_key::<String>()? {
                    if out.contains_key(&metric) {
                        // Same wording as serde's structs, so that the caller
                        // locates the repeat the same way.
                        return Err(de::Error::custom(format!("duplicate field `{metric}`")));
                    }
                    let tolerance = map.next_value::<f64>()?;
                    out.insert(metric, tolerance);
                }
                Ok(Tolerances(out))
            }
        }
        deserializer.deserialize_map(TolerancesVisitor)
    }
}

/// The `data:` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "the data section: a map with `dataset` and optional `path`, `train-subset`, `test-subset`, `attack-subset`, `synthetic`"
)]
pub struct RawData {
    /// Required.
    pub dataset: RawDataset,
    /// Default: the usual lookup order (`LOSSBENCH_DATA`, system directories).
    pub path: Option<PathBuf>,
    /// Default: all training samples.
    pub train_subset: Option<usize>,
    /// Default: all test samples.
    pub test_subset: Option<usize>,
    /// Default: attack every clean-correct test sample.
    pub attack_subset: Option<usize>,
    /// Only with `dataset: synthetic`; defaults from `SyntheticSpec::default()`.
    pub synthetic: Option<RawSynthetic>,
}

/// A dataset name, checked against the known datasets while parsing so that an
/// unknown name fails at its own position with the list of valid names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDataset(pub DatasetName);

/// Every dataset, in the order they are listed to users.
pub const DATASETS: [DatasetName; 5] = [
    DatasetName::Mnist,
    DatasetName::FashionMnist,
    DatasetName::Cifar10,
    DatasetName::Cifar100,
    DatasetName::Synthetic,
];

impl<'de> Deserialize<'de> for RawDataset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DatasetVisitor;
        impl Visitor<'_> for DatasetVisitor {
            type Value = RawDataset;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a dataset name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDataset, E> {
                DATASETS
                    .iter()
                    .find(|d| d.as_str() == v)
                    .map(|d| RawDataset(*d))
                    .ok_or_else(|| {
                        let names: Vec<&str> = DATASETS.iter().map(|d| d.as_str()).collect();
                        E::custom(unknown_name("dataset", v, &names))
                    })
            }
        }
        deserializer.deserialize_str(DatasetVisitor)
    }
}

/// `data.synthetic`: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of synthetic dataset options (`seed`, `classes`, `train`, `test`, `side`)"
)]
pub struct RawSynthetic {
    /// Default 0.
    pub seed: Option<u64>,
    /// 2..=10; default 4.
    pub classes: Option<usize>,
    /// >= 1; default 512.
    pub train: Option<usize>,
    /// >= 1; default 256.
    pub test: Option<usize>,
    /// 4..=64; default 12.
    pub side: Option<usize>,
}

/// The `train:` section; every key optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "the train section: a map of training options"
)]
pub struct RawTrain {
    /// >= 1; default 5.
    pub epochs: Option<usize>,
    /// >= 1; default 128.
    pub batch_size: Option<usize>,
    /// Default `adam`.
    pub optimizer: Option<RawOptimizer>,
    /// > 0 and finite; default 1e-3.
    pub lr: Option<f64>,
    /// Default `constant`.
    pub schedule: Option<RawSchedule>,
    /// >= 0; default 0.
    pub weight_decay: Option<f64>,
    /// Pad-and-crop plus horizontal flip; default false.
    pub augment: Option<bool>,
}

/// Parameters of a name that takes none; `{name: {}}` and `{name: null}` are
/// accepted so that every entry can be written the same way.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, expecting = "no parameters (an empty map)")]
pub struct NoParams {}

/// Options of every model.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of model options (`feature-dim`, `dropout`)"
)]
pub struct RawModelParams {
    /// >= 1; default 64.
    pub feature_dim: Option<usize>,
    /// In [0, 1); default 0.
    pub dropout: Option<f64>,
}

/// `sgd` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of sgd options (`momentum`, `nesterov`)"
)]
pub struct RawSgd {
    /// In [0, 1); default 0.9.
    pub momentum: Option<f64>,
    /// Default false.
    pub nesterov: Option<bool>,
}

/// `adam` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of adam options (`beta1`, `beta2`)"
)]
pub struct RawAdam {
    /// In [0, 1); default 0.9.
    pub beta1: Option<f64>,
    /// In [0, 1); default 0.999.
    pub beta2: Option<f64>,
}

/// `step` schedule options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of step schedule options (`step-size`, `gamma`)"
)]
pub struct RawStep {
    /// Required (validation says so, with the position), >= 1.
    pub step_size: Option<usize>,
    /// In (0, 1]; default 0.1.
    pub gamma: Option<f64>,
}

/// `multistep` schedule options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of multistep schedule options (`milestones`, `gamma`)"
)]
pub struct RawMultistep {
    /// Required, non-empty, strictly increasing, each in 1..=epochs.
    pub milestones: Option<Vec<usize>>,
    /// In (0, 1]; default 0.1.
    pub gamma: Option<f64>,
}

/// `center` loss options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of center loss options (`lambda`, `alpha`)"
)]
pub struct RawCenter {
    /// >= 0; default 0.01.
    pub lambda: Option<f64>,
    /// In (0, 1]; default 0.5.
    pub alpha: Option<f64>,
}

/// `lsoftmax` loss options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of lsoftmax loss options (`m`, `beta-base`, `gamma`, `power`, `beta-min`)"
)]
pub struct RawLsoftmax {
    /// Angular margin, 1..=4; default 2.
    pub m: Option<u32>,
    /// >= 0; default 1000.
    pub beta_base: Option<f64>,
    /// >= 0; default 2.5e-5.
    pub gamma: Option<f64>,
    /// >= 0; default 35.
    pub power: Option<f64>,
    /// >= 0; default 0.
    pub beta_min: Option<f64>,
}

/// `lgm` loss options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of lgm loss options (`alpha`, `lambda`, `covariance`, `log-var-floor`, `warmup-epochs`)"
)]
pub struct RawLgm {
    /// >= 0; default 0.1.
    pub alpha: Option<f64>,
    /// >= 0; default 0.1.
    pub lambda: Option<f64>,
    /// Default `identity`.
    pub covariance: Option<super::Covariance>,
    /// Finite; default -6.
    pub log_var_floor: Option<f64>,
    /// <= train.epochs; default 0.
    pub warmup_epochs: Option<usize>,
}

/// `fgsm` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of fgsm options (`eps`)"
)]
pub struct RawFgsm {
    /// Each in [0, 1]; default [0.1].
    pub eps: Option<Eps>,
}

/// `bim` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of bim options (`eps`, `step-size`, `steps`, `stop`)"
)]
pub struct RawBim {
    /// Each in [0, 1]; default [0.1].
    pub eps: Option<Eps>,
    /// In (0, 1]; default eps / 4.
    pub step_size: Option<f64>,
    /// >= 1; default 10.
    pub steps: Option<usize>,
    /// `first` (BIM-a) or `last` (BIM-b, default).
    pub stop: Option<super::BimStop>,
}

/// `deepfool` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of deepfool options (`candidates`, `overshoot`, `max-iter`)"
)]
pub struct RawDeepfool {
    /// >= 2; default 10.
    pub candidates: Option<usize>,
    /// >= 0; default 0.02.
    pub overshoot: Option<f64>,
    /// >= 1; default 50.
    pub max_iter: Option<usize>,
}

/// `kd` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of kd options (`sigma`)"
)]
pub struct RawKd {
    /// > 0; default 1.0.
    pub sigma: Option<f64>,
}

/// `kd-bu` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of kd-bu options (`sigma`, `samples`)"
)]
pub struct RawKdBu {
    /// > 0; default 1.0.
    pub sigma: Option<f64>,
    /// >= 2; default 50.
    pub samples: Option<usize>,
}

/// `lid` options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a map of lid options (`k`, `batch`)"
)]
pub struct RawLid {
    /// >= 1 and < batch; default 20.
    pub k: Option<usize>,
    /// >= 2; default 100.
    pub batch: Option<usize>,
}

/// `eps`: one number or a list of them; a scalar is a one-element list.
/// Which form was written is kept so that errors name `eps` or `eps[i]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Eps {
    One(f64),
    List(Vec<f64>),
}

impl Eps {
    /// The values, a scalar as a one-element list.
    pub fn values(&self) -> Vec<f64> {
        match self {
            Eps::One(v) => vec![*v],
            Eps::List(vs) => vs.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Eps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EpsVisitor;
        impl<'de> Visitor<'de> for EpsVisitor {
            type Value = Eps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a list of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Eps, E> {
                Ok(Eps::One(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Eps, E> {
                Ok(Eps::One(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Eps, E> {
                Ok(Eps::One(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Eps, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<f64>()? {
                    out.push(v);
                }
                Ok(Eps::List(out))
            }
        }
        deserializer.deserialize_any(EpsVisitor)
    }
}

/// A value written as a bare name or as a one-key map `{name: {params}}`.
pub trait Named: Sized {
    /// What the name names, for messages: "loss", "model", ...
    const KIND: &'static str;
    /// Its plural: "losses", "models", ...
    const PLURAL: &'static str;
    /// Whether it is an item of a list (`losses:`) rather than a single
    /// value (`model:`).
    const IN_LIST: bool;
    /// The valid names, in the order they are listed to users.
    const NAMES: &'static [&'static str];
    /// The value for the bare `name`: every parameter left to its default.
    /// `None` for a name not in [`Named::NAMES`].
    fn bare(name: &str) -> Option<Self>;
    /// The value for `name`, reading its parameters (the map's next value).
    fn with_params<'de, A: MapAccess<'de>>(name: &str, map: &mut A) -> Result<Self, A::Error>;
}

/// Reads a [`Named`] value in either form.
pub struct NamedVisitor<T>(PhantomData<T>);

impl<T> Default for NamedVisitor<T> {
    fn default() -> Self {
        NamedVisitor(PhantomData)
    }
}

impl<'de, T: Named> Visitor<'de> for NamedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} name ({}) or a one-key map {{name: {{params}}}}",
            article(T::KIND),
            quoted(T::NAMES)
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::bare(v).ok_or_else(|| E::custom(unknown_name(T::KIND, v, T::NAMES)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        // The name is checked while the key is read, so that an unknown name
        // is reported at the key's own position.
        let name = match map.next_key_seed(NameSeed::<T>(PhantomData))? {
            Some(name) => name,
            None => {
                return Err(de::Error::custom(format!(
                    "expected {} name or a one-key map {{name: {{params}}}}, found an empty map",
                    article(T::KIND)
                )))
            }
        };
        let value = T::with_params(&name, &mut map)?;
        // A second key is nearly always a parameter indented one level too
        // little (`- lgm:` then `alpha: 0.1` under the dash); say so at it.
        map.next_key_seed(SecondKey::<T> {
            name: &name,
            kind: PhantomData,
        })?;
        Ok(value)
    }
}

/// The key of a `{name: {params}}` map, checked against `T::NAMES`.
struct NameSeed<T>(PhantomData<T>);

impl<'de, T: Named> DeserializeSeed<'de> for NameSeed<T> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<T: Named> Visitor<'_> for NameSeed<T> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} name", article(T::KIND))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if T::NAMES.contains(&v) {
            Ok(v.to_owned())
        } else {
            Err(E::custom(unknown_name(T::KIND, v, T::NAMES)))
        }
    }
}

/// Fails on any key after the name.
struct SecondKey<'a, T> {
    name: &'a str,
    kind: PhantomData<T>,
}

impl<'de, T: Named> DeserializeSeed<'de> for SecondKey<'_, T> {
    type Value = IgnoredAny;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<IgnoredAny, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<T: Named> SecondKey<'_, T> {
    fn fail<E: de::Error>(&self, key: &dyn fmt::Display) -> E {
        let (name, key) = (self.name, key.to_string());
        E::custom(if key == name {
            format!("`{name}` is given twice")
        } else if !T::NAMES.contains(&key.as_str()) {
            format!(
                "{kind} entry has one key, its name; `{key}` is a second key (parameters go \
                 under the name: `{name}: {{{key}: ...}}`)",
                kind = article(T::KIND),
            )
        } else if T::IN_LIST {
            // `- lgm: {...}` with `center: {...}` under it, one dash short.
            format!(
                "two {plural} in one entry (`{name}`, `{key}`); give each its own list item \
                 (`- {name}` and `- {key}`)",
                plural = T::PLURAL,
            )
        } else {
            format!(
                "two {plural} given (`{name}`, `{key}`); choose one",
                plural = T::PLURAL
            )
        })
    }
}

impl<T: Named> Visitor<'_> for SecondKey<'_, T> {
    type Value = IgnoredAny;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("no second key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<IgnoredAny, E> {
        Err(self.fail(&v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IgnoredAny, E> {
        Err(self.fail(&v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IgnoredAny, E> {
        Err(self.fail(&v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<IgnoredAny, E> {
        Err(self.fail(&v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<IgnoredAny, E> {
        Err(self.fail(&v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<IgnoredAny, E> {
        Err(self.fail(&"null"))
    }
}

/// Reads the parameters of a name: `null` and `{}` both mean "every default".
fn params<'de, P, A>(map: &mut A) -> Result<P, A::Error>
where
    P: Deserialize<'de> + Default,
    A: MapAccess<'de>,
{
    Ok(map.next_value::<Option<P>>()?.unwrap_or_default())
}

/// Declares a [`Named`] enum: one variant per name, each holding its
/// parameter struct.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $ty:ident, $kind:literal, $plural:literal, in_list = $in_list:literal {
            $( $(#[$vmeta:meta])* $name:literal => $variant:ident($params:ty), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $ty {
            $( $(#[$vmeta])* $variant($params), )+
        }

        impl Named for $ty {
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const IN_LIST: bool = $in_list;
            const NAMES: &'static [&'static str] = &[$($name),+];
            fn bare(name: &str) -> Option<Self> {
                match name {
                    $( $name => Some($ty::$variant(<$params>::default())), )+
                    _ => None,
                }
            }
            fn with_params<'de, A: MapAccess<'de>>(
                name: &str,
                map: &mut A,
            ) -> Result<Self, A::Error> {
                match name {
                    $( $name => Ok($ty::$variant(params(map)?)), )+
                    other => Err(de::Error::custom(unknown_name($kind, other, Self::NAMES))),
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(NamedVisitor::<$ty>::default())
            }
        }
    };
}

named_enum! {
    /// `model:`.
    RawModel, "model", "models", in_list = false {
        "mlp" => Mlp(RawModelParams),
        "small-cnn" => SmallCnn(RawModelParams),
        "lenetpp" => Lenetpp(RawModelParams),
        "resnet20" => Resnet20(RawModelParams),
        "resnet32" => Resnet32(RawModelParams),
        "resnet56" => Resnet56(RawModelParams),
    }
}

named_enum! {
    /// `train.optimizer:`.
    RawOptimizer, "optimizer", "optimizers", in_list = false {
        "adam" => Adam(RawAdam),
        "sgd" => Sgd(RawSgd),
    }
}

named_enum! {
    /// `train.schedule:`.
    RawSchedule, "schedule", "schedules", in_list = false {
        "constant" => Constant(NoParams),
        "cosine" => Cosine(NoParams),
        "step" => Step(RawStep),
        "multistep" => Multistep(RawMultistep),
    }
}

named_enum! {
    /// One item of `losses:`.
    RawLoss, "loss", "losses", in_list = true {
        "softmax" => Softmax(NoParams),
        "center" => Center(RawCenter),
        "lsoftmax" => Lsoftmax(RawLsoftmax),
        "lgm" => Lgm(RawLgm),
    }
}

named_enum! {
    /// One item of `attacks:`.
    RawAttack, "attack", "attacks", in_list = true {
        "fgsm" => Fgsm(RawFgsm),
        "bim" => Bim(RawBim),
        "deepfool" => Deepfool(RawDeepfool),
    }
}

named_enum! {
    /// One item of `detectors:`.
    RawDetector, "detector", "detectors", in_list = true {
        "max-softmax" => MaxSoftmax(NoParams),
        "lgm-likelihood" => LgmLikelihood(NoParams),
        "mahalanobis" => Mahalanobis(NoParams),
        "kd" => Kd(RawKd),
        "kd-bu" => KdBu(RawKdBu),
        "lid" => Lid(RawLid),
    }
}

/// "unknown loss `foo`, expected one of `softmax`, `center`, `lgm`".
fn unknown_name(kind: &str, name: &str, names: &[&str]) -> String {
    format!("unknown {kind} `{name}`, expected one of {}", quoted(names))
}

/// "a loss", "an attack".
fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

/// Parses suite text into the raw tree; `path` is only used in messages.
///
/// Errors carry the line and column yaml_serde reports (1-based) and the field
/// path serde_path_to_error tracked, except for a missing field, which is
/// reported at the key of the map that lacks it, with the missing key
/// appended to the path.
pub fn parse(text: &str, path: &Path) -> crate::Result<RawSuite> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let segs = segments(err.path());
        to_error(err.into_inner(), segs, text, path)
    })
}

/// serde_path_to_error's path as locator segments.
fn segments(path: &serde_path_to_error::Path) -> Vec<PathSeg> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|s| match s {
            Segment::Seq { index } => PathSeg::Index(*index),
            Segment::Map { key } => PathSeg::Key(key.clone()),
            Segment::Enum { variant } => PathSeg::Key(variant.clone()),
            Segment::Unknown => PathSeg::Key("?".to_owned()),
            // `Segment` is non-exhaustive; a future kind still names a place.
            #[allow(unreachable_patterns)]
            _ => PathSeg::Key("?".to_owned()),
        })
        .collect()
}

fn to_error(
    err: serde_yaml::Error,
    mut segs: Vec<PathSeg>,
    text: &str,
    file: &Path,
) -> crate::Error {
    let (mut line, mut column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let mut msg = bare_message(&err, &segs);
    let mut field = locate::display(&segs);

    let blank = || {
        matches!(
            serde_yaml::from_str::<serde_yaml::Value>(text),
            Ok(serde_yaml::Value::Null)
        )
    };
    if msg == "EOF while parsing a value" || (segs.is_empty() && blank()) {
        msg = "the file is empty; a suite needs at least `name`, `data`, `model`, `losses` \
               and `seeds`"
            .to_owned();
        field = ".".to_owned();
        (line, column) = (1, 1);
    } else if err.location().is_some() && is_syntax_error(&err) {
        field = "(syntax)".to_owned();
    } else if let Some(missing) = missing_field(&msg) {
        // yaml_serde points at the first key of the map that lacks the field;
        // the key naming that map is what the user must extend.
        (line, column) = locate::locate(text, &segs).unwrap_or((1, 1));
        segs.push(PathSeg::Key(missing.to_owned()));
        field = locate::display(&segs);
    } else if let Some(repeated) = duplicate_field(&msg) {
        // Raised once the map is read, so yaml_serde points at the map; the
        // second occurrence of the key is the one to delete.
        segs.push(PathSeg::Key(repeated.to_owned()));
        (line, column) = locate::locate_repeat(text, &segs).unwrap_or((line, column));
        field = locate::display(&segs);
    } else {
        msg = wording::plain(&msg, &segs);
    }
    crate::Error::Suite {
        file: file.to_path_buf(),
        line,
        column,
        field,
        msg,
    }
}

/// A libyaml scanner/parser error: its message has no field path.
fn is_syntax_error(err: &serde_yaml::Error) -> bool {
    // yaml_serde keeps the libyaml error private; its Debug form names the
    // libyaml error kind, which a serde message never does.
    let debug = format!("{err:?}");
    [
        "kind: SCANNER",
        "kind: PARSER",
        "kind: READER",
        "kind: COMPOSER",
    ]
    .iter()
    .any(|k| debug.contains(k))
}

/// The message without the " at line L column C" yaml_serde appends and the
/// "path: " it prepends (we print both ourselves).
fn bare_message(err: &serde_yaml::Error, segs: &[PathSeg]) -> String {
    let mut msg = err.to_string();
    if let Some(loc) = err.location() {
        let at = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(i) = msg.find(&at) {
            msg.replace_range(i..i + at.len(), "");
        }
    }
    // yaml_serde's own path uses the same dotted form, but stops at the map
    // when the key itself failed; try the full path, then its ancestors.
    for n in (1..=segs.len()).rev() {
        let prefix = format!("{}: ", locate::display(&segs[..n]));
        if let Some(rest) = msg.strip_prefix(&prefix) {
            return rest.to_owned();
        }
    }
    // Keys yaml_serde could not name show as `?`.
    if let Some(i) = msg.find(": ") {
        let head = &msg[..i];
        if !head.contains(' ') && (head.contains('.') || head.contains('[') || head.contains('?')) {
            return msg[i + 2..].to_owned();
        }
    }
    msg
}

/// The field name in serde's "missing field `x`" message.
fn missing_field(msg: &str) -> Option<&str> {
    msg.strip_prefix("missing field `")?.strip_suffix('`')
}

/// The field name in serde's "duplicate field `x`" message.
fn duplicate_field(msg: &str) -> Option<&str> {
    msg.strip_prefix("duplicate field `")?.strip_suffix('`')
}
