//! SIP SIMPLE presence: the gateway as a SIP watcher of a presence server (a PBX,
//! Kamailio, Asterisk/FreePBX, CUCM's presence), beside Microsoft Graph.
//!
//! - [`pidf`]: PIDF + RPID and dialog-info bodies, mapped to availability and activity
//!   (pure).
//! - [`uri_template`]: which SIP URI belongs to a colleague (pure).
//! - [`watcher`]: the subscriptions (RFC 6665) over the `ezk-sip` stack: `presence`
//!   and `dialog` events per colleague, paced, refreshed before they expire, recovered
//!   after 481, timeouts, a server restart or `terminated`; digest authentication
//!   (MD5, SHA-256) with at most one retry per challenge.

pub mod pidf;
pub mod uri_template;
pub mod watcher;

use std::time::Duration;

pub use uri_template::UriTemplate;
pub use watcher::{SipSetupError, spawn};

/// How the gateway reaches the SIP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SipTransport {
    #[default]
    Udp,
    Tcp,
    /// TLS over TCP (`sips` servers usually listen on 5061).
    Tls,
}

impl SipTransport {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "udp" => Some(Self::Udp),
            "tcp" => Some(Self::Tcp),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// Where the SIP source subscribes, as whom, and to what (`Debug` redacts the password).
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// The presence server's host (name or address).
    pub server: String,
    pub port: u16,
    pub transport: SipTransport,
    /// The SIP domain of the colleagues' URIs (`{domain}` in the template) and of the
    /// watcher's own URI.
    pub domain: String,
    /// The watcher's user (its From) and digest user name.
    pub user: String,
    /// The digest password, if the server asks for one.
    pub password: Option<crate::graph::secret::Secret>,
    pub uri_template: UriTemplate,
    /// The subscription time asked for (the server may grant less).
    pub expires: Duration,
    /// Also subscribe to the `dialog` event (telephony state: busy lamps).
    pub watch_dialogs: bool,
    /// New SUBSCRIBEs sent per second at most (the first pass over a company, and
    /// recoveries).
    pub subscribes_per_sec: u32,
    /// A resource list (RFC 4662) on the server holding the colleagues: their presence
    /// then comes through this one subscription instead of one each.
    pub rls_uri: Option<String>,
    /// With TLS: a PEM file of extra CA certificates to trust (a company CA), besides
    /// the system's.
    pub tls_ca_file: Option<std::path::PathBuf>,
}

impl SipConfig {
    /// Defaults for a server: UDP port 5060, `sip:{upn}`, an hour, dialogs watched,
    /// 200 new SUBSCRIBEs a second.
    pub fn new(server: &str, domain: &str) -> Self {
        Self {
            server: server.to_owned(),
            port: 5060,
            transport: SipTransport::Udp,
            domain: domain.to_owned(),
            user: "presence-gateway".to_owned(),
            password: None,
            uri_template: UriTemplate::default(),
            expires: Duration::from_secs(3600),
            watch_dialogs: true,
            subscribes_per_sec: 200,
            rls_uri: None,
            tls_ca_file: None,
        }
    }
}
