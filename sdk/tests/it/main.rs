//! Integration tests of concord-sdk, one binary: the content store over a local directory, a
//! real HTTP server and a real S3-compatible server (moto).
mod store;
mod store_s3;
