//! Generates the gRPC client and server from `proto/` with a pure-Rust protobuf compiler
//! (`protox`), so no system `protoc` is needed. Also writes the file descriptor set that
//! the gateway serves through gRPC reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../../proto/ucx/presence/v1/presence.proto";
    println!("cargo:rerun-if-changed={proto}");
    let file_descriptors = protox::compile([proto], ["../../proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("presence_descriptor.bin"),
        prost::Message::encode_to_vec(&file_descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::lean_codec::LeanCodec")
        .compile_fds(file_descriptors)?;
    Ok(())
}
