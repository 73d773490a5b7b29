//! Validation (stub; being written).
pub fn validate(
    _raw: super::raw::RawSuite,
    _text: &str,
    _path: &std::path::Path,
) -> crate::Result<super::Suite> {
    todo!()
}
