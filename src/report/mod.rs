//! Reports (stub; being written).
