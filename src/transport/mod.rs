//! The wire: code generated from `proto/ucx/presence/v1/presence.proto`, and
//! conversions between it and the domain. Nothing outside `transport`, `gateway` and
//! the panel's connection module should touch generated types.

pub mod client;
pub mod convert;

/// Generated protobuf messages and gRPC client/server for `ucx.presence.v1`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("ucx.presence.v1");
}

/// The encoded file descriptor set of the contract, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/presence_descriptor.bin"));
