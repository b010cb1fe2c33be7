//! Concord client SDK.
