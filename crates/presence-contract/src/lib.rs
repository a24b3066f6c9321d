//! The contract between panels and the gateway, `ucx.presence.v1`: code generated from
//! `proto/ucx/presence/v1/presence.proto`, conversions between it and the domain
//! ([`convert`]), connecting as a client ([`client`]), the bearer token both ends use
//! ([`access_token`]) and the message limits both ends agree on ([`limits`]).
//!
//! Must never depend on the hub, the sources or a GUI crate: it is the wire, nothing
//! more. Only this crate, the gateway (service, server, check) and the panel's
//! connection module touch generated types (tests and benchmarks aside).

pub mod access_token;
pub mod client;
pub mod convert;
pub mod lean_codec;
pub mod limits;

pub use access_token::{AccessToken, TokenFileError};

/// Where a gateway listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Where panels and `presence-gateway check` look for a gateway unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:50051";
pub use client::{
    ClientTls, ConnectError, PemFileError, PresenceClient, connect, connect_with, read_pem,
};

/// Generated protobuf messages and gRPC client/server for `ucx.presence.v1`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("ucx.presence.v1");
}

/// The encoded file descriptor set of the contract, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/presence_descriptor.bin"));
