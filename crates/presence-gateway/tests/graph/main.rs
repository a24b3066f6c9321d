//! The Microsoft Graph source against a local fake of the identity platform and Graph
//! (an HTTP server on 127.0.0.1:0 answering with the documented JSON shapes and checking
//! what it is sent), then through a real gateway to a real tonic client.
//!
//! [`fake`] is the fake; [`support`] the helpers the tests share; the other modules are
//! the tests, by topic.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binary;
mod config;
mod directory;
mod fake;
mod faults;
mod login;
mod presence;
mod support;
mod tokens;
