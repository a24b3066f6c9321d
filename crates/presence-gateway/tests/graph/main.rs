//! The Microsoft Graph source against a local fake of the identity platform and Graph
//! (an HTTP server on 127.0.0.1:0 answering with the documented JSON shapes and checking
//! what it is sent), then through a real gateway to a real tonic client.
//!
//! [`fake`] is the fake; [`support`] the helpers the tests share; [`kamailio`] a real
//! SIP presence server for the tests of Teams and SIP SIMPLE together ([`sip`]); the
//! other modules are the tests, by topic.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binary;
mod config;
mod directory;
mod fake;
mod faults;
mod login;
mod presence;
mod sip;
mod support;

/// Kamailio and SIP phones, shared with the SIP source's own tests.
#[path = "../../../presence-sources/tests/support/kamailio.rs"]
mod kamailio;
mod tokens;
