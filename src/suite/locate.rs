//! Field locator (stub; being written).
