//! The gateway on the network: TLS with a company CA (certificates made here with
//! rcgen), mutual TLS, and the rules off loopback (TLS and a token, or an explicit
//! plaintext opt-out). Real server on 127.0.0.1:0, real clients.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use presence_contract::{AccessToken, ClientTls, connect_with};
use presence_domain::WinningTechnology;
use presence_gateway::check::{CheckError, check};
use presence_gateway::{GatewayConfig, GatewayError, ServerTls, server};
use presence_test_support::hub_with;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// A company CA, a server certificate for localhost and 127.0.0.1, a client
/// certificate, and a second CA nobody trusts: PEM files in a temporary folder.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let write =
            |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
        let ca = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
        };
        let company = ca("Contoso Test CA");
        let stranger = ca("Someone Else's CA");
        write("ca.pem", &company.pem());
        write("other-ca.pem", &stranger.pem());
        let leaf = |names: Vec<String>, issuer: &CertifiedIssuer<'_, KeyPair>, stem: &str| {
            let key = KeyPair::generate().expect("key");
            let params = CertificateParams::new(names).expect("params");
            let cert = params.signed_by(&key, issuer).expect("signed");
            write(&format!("{stem}.pem"), &cert.pem());
            write(&format!("{stem}-key.pem"), &key.serialize_pem());
        };
        leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            &company,
            "server",
        );
        leaf(vec!["reception-01".into()], &company, "client");
        leaf(vec!["intruder".into()], &stranger, "intruder");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn server_tls(&self, mutual: bool) -> ServerTls {
        ServerTls {
            cert_file: self.path("server.pem"),
            key_file: self.path("server-key.pem"),
            client_ca_file: mutual.then(|| self.path("ca.pem")),
        }
    }

    fn trusting(&self, ca: &str) -> ClientTls {
        ClientTls {
            ca_file: Some(self.path(ca)),
            ..ClientTls::default()
        }
    }

    fn with_client_cert(&self, stem: &str) -> ClientTls {
        ClientTls {
            client_cert_file: Some(self.path(&format!("{stem}.pem"))),
            client_key_file: Some(self.path(&format!("{stem}-key.pem"))),
            ..self.trusting("ca.pem")
        }
    }
}

fn tls_config(pki: &Pki, mutual: bool) -> GatewayConfig {
    GatewayConfig {
        tls: Some(pki.server_tls(mutual)),
        heartbeat_interval: Duration::from_millis(200),
        ..GatewayConfig::loopback_ephemeral()
    }
}

async fn check_with(url: &str, tls: &ClientTls) -> Result<usize, CheckError> {
    check(url, None, tls, Duration::from_secs(5))
        .await
        .map(|report| report.snapshot_presences)
}

#[tokio::test]
async fn a_client_that_trusts_the_company_ca_subscribes_over_tls() {
    let pki = Pki::new();
    let hub = hub_with(20, WinningTechnology::MsTeams);
    let gateway = server::start(hub, tls_config(&pki, false))
        .await
        .expect("starts with TLS");
    let port = gateway.local_addr().port();
    assert!(gateway.endpoint_url().starts_with("https://"));
    // Connections that never start their handshake hold up nobody.
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(
            tokio::net::TcpStream::connect(gateway.local_addr())
                .await
                .expect("tcp"),
        );
    }

    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{port}");
        assert_eq!(
            check_with(&url, &pki.trusting("ca.pem"))
                .await
                .expect("served over TLS"),
            20,
            "{url}"
        );
    }
    // The system's roots alone do not know the company CA; another CA is no better.
    let url = format!("https://localhost:{port}");
    for tls in [ClientTls::default(), pki.trusting("other-ca.pem")] {
        let refused = check_with(&url, &tls).await;
        assert!(
            refused.is_err(),
            "an untrusted certificate is refused: {tls:?}"
        );
    }
    // Plain HTTP/2 to a TLS port gets nowhere.
    let plain = check_with(&format!("http://127.0.0.1:{port}"), &ClientTls::default()).await;
    assert!(plain.is_err());
    // A missing CA file is a clear error naming it.
    let missing = connect_with(&url, None, &pki.trusting("nowhere.pem"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(missing.contains("nowhere.pem"), "{missing}");
    gateway.shutdown().await.expect("shutdown");
}

/// What a client trusting `tls` is served once the gateway has looked at its certificate
/// files again: the first handshake after the interval notices a change (and may still
/// get the certificate before it), so the second is asked.
async fn served_after_a_reload_check(url: &str, tls: &ClientTls) -> usize {
    tokio::time::sleep(presence_gateway::tls::RELOAD_CHECK_INTERVAL + Duration::from_millis(500))
        .await;
    let _ = check_with(url, tls).await;
    check_with(url, tls)
        .await
        .expect("served after the reload check")
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let old = Pki::new();
    let hub = hub_with(3, WinningTechnology::MsTeams);
    let gateway = server::start(hub, tls_config(&old, false))
        .await
        .expect("starts with TLS");
    let url = format!("https://localhost:{}", gateway.local_addr().port());
    assert_eq!(
        check_with(&url, &old.trusting("ca.pem"))
            .await
            .expect("served"),
        3
    );

    // The certificate is renewed in place, by another CA.
    let new = Pki::new();
    for name in ["server.pem", "server-key.pem"] {
        std::fs::copy(new.path(name), old.path(name)).expect("renewed");
    }
    assert_eq!(
        served_after_a_reload_check(&url, &new.trusting("ca.pem")).await,
        3
    );
    assert!(
        check_with(&url, &old.trusting("ca.pem")).await.is_err(),
        "the old one no longer"
    );
    // A broken renewal keeps the last good certificate.
    std::fs::write(old.path("server.pem"), "not a certificate").expect("broken");
    assert_eq!(
        served_after_a_reload_check(&url, &new.trusting("ca.pem")).await,
        3
    );
    gateway.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_company_ca() {
    let pki = Pki::new();
    let hub = hub_with(5, WinningTechnology::MsTeams);
    let gateway = server::start(hub, tls_config(&pki, true))
        .await
        .expect("starts with mutual TLS");
    let url = format!("https://localhost:{}", gateway.local_addr().port());
    assert_eq!(
        check_with(&url, &pki.with_client_cert("client"))
            .await
            .expect("a company certificate is admitted"),
        5
    );
    assert!(
        check_with(&url, &pki.trusting("ca.pem")).await.is_err(),
        "no client certificate, no service"
    );
    assert!(
        check_with(&url, &pki.with_client_cert("intruder"))
            .await
            .is_err(),
        "a certificate from another CA is refused"
    );
    gateway.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn off_loopback_the_gateway_wants_tls_and_a_token() {
    let pki = Pki::new();
    let any: SocketAddr = "0.0.0.0:0".parse().expect("addr");
    let token = AccessToken::new("a-long-enough-test-token-0123456789").expect("token");
    let hub = hub_with(1, WinningTechnology::MsTeams);
    let config = |token: Option<AccessToken>, tls: bool, allow_plaintext: bool| GatewayConfig {
        listen: any,
        token,
        tls: tls.then(|| pki.server_tls(false)),
        allow_plaintext_off_loopback: allow_plaintext,
        ..GatewayConfig::loopback_ephemeral()
    };

    let refused = server::start(hub.clone(), config(Some(token.clone()), false, false)).await;
    assert!(matches!(refused, Err(GatewayError::TlsRequired(_))));
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--tls-cert"), "{message}");
    let refused = server::start(hub.clone(), config(None, true, false)).await;
    assert!(matches!(refused, Err(GatewayError::TokenRequired(_))));

    let with_tls = server::start(hub.clone(), config(Some(token.clone()), true, false))
        .await
        .expect("TLS and a token: serves off loopback");
    with_tls.shutdown().await.expect("shutdown");
    let opted_out = server::start(hub.clone(), config(Some(token), false, true))
        .await
        .expect("the explicit opt-out serves without TLS");
    opted_out.shutdown().await.expect("shutdown");

    let broken = GatewayConfig {
        tls: Some(ServerTls {
            key_file: pki.path("missing-key.pem"),
            ..pki.server_tls(false)
        }),
        ..GatewayConfig::loopback_ephemeral()
    };
    let message = server::start(hub, broken)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("missing-key.pem"), "{message}");
}
