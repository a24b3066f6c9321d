//! Bearer-token access control for a gateway that listens beyond loopback: an
//! interceptor that lets a call through only with the configured token. The token is
//! compared in constant time and never logged.

use presence_contract::AccessToken;
use tonic::{Request, Status};

/// A gRPC interceptor that lets a call through only with the right bearer token
/// (or always, when no token is configured).
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    token: Option<AccessToken>,
}

impl AuthInterceptor {
    pub fn new(token: Option<AccessToken>) -> Self {
        Self { token }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.token else {
            return Ok(request);
        };
        match request.metadata().get("authorization") {
            Some(value) if token.accepts_header(value.as_bytes()) => Ok(request),
            Some(_) => Err(Status::unauthenticated("the access token is not valid")),
            None => Err(Status::unauthenticated(
                "this gateway requires an access token: send 'authorization: Bearer <token>'",
            )),
        }
    }
}
