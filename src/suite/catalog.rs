//! Catalog (stub; being written).
