//! The protobuf codec of every `ucx.presence.v1` call: prost's, with buffers sized for
//! a server that holds thousands of streams.
//!
//! tonic encodes a stream's messages into one buffer per stream that keeps the size of
//! the largest batch it ever held, and by default it batches ready messages until 32 KiB
//! before handing them to HTTP/2. For a gateway with many subscribers that buffer was
//! half of what each one cost. Here each message is handed on alone, so a stream's
//! buffer stays at the size of its largest message; the gateway keeps subscription
//! messages under [`crate::limits::STREAM_MESSAGE_BYTES`], which fits the buffer.

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

use crate::limits::CODEC_BUFFER_BYTES;

/// Buffers of [`CODEC_BUFFER_BYTES`], grown in steps of that size; one message a batch.
fn buffer_settings() -> BufferSettings {
    BufferSettings::new(CODEC_BUFFER_BYTES, 1)
}

/// prost encoding with [`buffer_settings`]; named by the generated client and server.
#[derive(Debug, Clone)]
pub struct LeanCodec<T, U> {
    _messages: PhantomData<(T, U)>,
}

impl<T, U> Default for LeanCodec<T, U> {
    fn default() -> Self {
        Self {
            _messages: PhantomData,
        }
    }
}

impl<T, U> Codec for LeanCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(buffer_settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(buffer_settings())
    }
}
