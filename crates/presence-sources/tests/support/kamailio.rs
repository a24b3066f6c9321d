//! A real SIP presence server for tests: Kamailio (Debian's `kamailio` and
//! `kamailio-presence-modules`) with `testdata/kamailio/presence.cfg`, started on a
//! free loopback port, and "phones" that PUBLISH presence to it.
//!
//! Without a `kamailio` binary a test is skipped with a message, except under
//! `CI=true`, where it fails (CI installs the packages).
// A test crate's helpers: an `expect` fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytesstr::BytesStr;
use ezk_sip_core::transport::TargetTransportInfo;
use ezk_sip_core::{Endpoint, Request};
use ezk_sip_types::header::typed::{CSeq, CallID, Event, Expires, FromTo};
use ezk_sip_types::uri::{NameAddr, SipUri};
use ezk_sip_types::{Method, Name};

/// How Kamailio is set up.
#[derive(Debug, Clone)]
pub struct KamailioOptions {
    /// Digest authentication of SUBSCRIBE: the algorithm (`MD5`, `SHA-256`) and the
    /// password every watcher must give.
    pub auth: Option<(&'static str, &'static str)>,
    /// The longest subscription granted.
    pub max_expires: u32,
    /// Shared memory, in MB (20,000 subscriptions need a few hundred).
    pub shared_memory_mb: u32,
    /// Also serve TLS (on [`Kamailio::tls_port`]) with a certificate for 127.0.0.1
    /// issued by a test CA (its PEM in [`Kamailio::ca_file`]).
    pub tls: bool,
    /// A resource list: the watcher it belongs to (`sip:user@domain`: Kamailio looks
    /// lists up by the subscriber), its URI, and the URIs it holds.
    pub rls_list: Option<(String, String, Vec<String>)>,
}

impl Default for KamailioOptions {
    fn default() -> Self {
        Self {
            auth: None,
            max_expires: 3600,
            shared_memory_mb: 64,
            rls_list: None,
            tls: false,
        }
    }
}

pub struct Kamailio {
    child: Option<Child>,
    pub port: u16,
    /// With `tls`: the TLS port, and the CA that issued the server's certificate.
    pub tls_port: u16,
    options: KamailioOptions,
    dir: tempfile::TempDir,
    runs: u32,
}

fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kamailio/presence.cfg")
}

/// The `kamailio` binary, or `None` (and a message) when a test may skip.
fn binary() -> Option<PathBuf> {
    for candidate in ["/usr/sbin/kamailio", "/usr/local/sbin/kamailio"] {
        if Path::new(candidate).exists() {
            return Some(PathBuf::from(candidate));
        }
    }
    let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !is_ci,
        "kamailio is not installed: CI must install kamailio, kamailio-presence-modules and kamailio-tls-modules"
    );
    eprintln!(
        "SKIPPED: kamailio is not installed (apt-get install kamailio kamailio-presence-modules kamailio-tls-modules)"
    );
    None
}

/// A port free for both UDP and TCP on 127.0.0.1.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        let port = tcp.local_addr().expect("addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl Kamailio {
    /// Starts Kamailio, or returns `None` when it is not installed (outside CI).
    pub fn start(options: KamailioOptions) -> Option<Self> {
        binary()?;
        let mut server = Self {
            child: None,
            port: free_port(),
            tls_port: free_port(),
            options,
            dir: tempfile::tempdir().expect("tempdir"),
            runs: 0,
        };
        server.launch();
        Some(server)
    }

    fn launch(&mut self) {
        let binary = binary().expect("kamailio");
        self.runs += 1;
        let db = self.dir.path().join(format!("db-{}", self.runs));
        copy_dir(Path::new("/usr/share/kamailio/dbtext/kamailio"), &db);
        if let Some((owner, list, members)) = &self.options.rls_list {
            write_rls_service(&db, owner, list, members);
        }
        let log = std::fs::File::create(self.log_path()).expect("log");
        let mut command = Command::new(binary);
        command
            .arg("-f")
            .arg(config_path())
            .args(["-DD", "-E", "-M", "8"])
            .arg("-m")
            .arg(self.options.shared_memory_mb.to_string())
            .arg("-A")
            .arg(format!("SIP_PORT={}", self.port))
            .arg("-A")
            .arg(format!("DB_URL=\"text://{}\"", db.display()))
            .arg("-A")
            .arg(format!("MAX_EXPIRES={}", self.options.max_expires))
            .arg("-A")
            .arg(format!(
                "SERVER_ADDRESS=\"sip:presence@127.0.0.1:{}\"",
                self.port
            ))
            .arg("-A")
            .arg(format!("RLS_ADDRESS=\"sip:rls@127.0.0.1:{}\"", self.port))
            .arg("-A")
            .arg(format!("OUTBOUND_PROXY=\"sip:127.0.0.1:{}\"", self.port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if self.options.rls_list.is_some() {
            command.arg("-A").arg("WITH_RLS");
        }
        if self.options.tls {
            let config = self.write_tls_files();
            command
                .arg("-A")
                .arg("WITH_TLS")
                .arg("-A")
                .arg(format!("TLS_PORT={}", self.tls_port))
                .arg("-A")
                .arg(format!("TLS_CONFIG=\"{}\"", config.display()));
        }
        if let Some((algorithm, password)) = self.options.auth {
            command
                .arg("-A")
                .arg("WITH_AUTH")
                .arg("-A")
                .arg(format!("AUTH_ALGORITHM=\"{algorithm}\""))
                .arg("-A")
                .arg(format!("AUTH_PASSWORD=\"{password}\""));
        }
        // Its own process group: Kamailio forks workers, and stopping it must stop
        // them all (else they keep the port and the old state).
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("kamailio starts");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "kamailio did not listen on {}: {}",
                self.port,
                self.log()
            );
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("kamailio exited ({status}): {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The CA certificate (PEM) that issued the TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A test CA, a certificate for 127.0.0.1 it issued, and Kamailio's tls.cfg.
    fn write_tls_files(&self) -> PathBuf {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let dir = self.dir.path();
        let config = dir.join("tls.cfg");
        if config.exists() {
            return config;
        }
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca =
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        std::fs::write(self.ca_file(), ca.pem()).expect("ca");
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("signed");
        std::fs::write(dir.join("server.pem"), cert.pem()).expect("cert");
        std::fs::write(dir.join("server-key.pem"), key.serialize_pem()).expect("key");
        std::fs::write(
            &config,
            format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = {}\ncertificate = {}\n\n[client:default]\nverify_certificate = no\nrequire_certificate = no\n",
                dir.join("server-key.pem").display(),
                dir.join("server.pem").display()
            ),
        )
        .expect("tls.cfg");
        config
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("kamailio.log")
    }

    /// What Kamailio logged in its current run.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// How many SUBSCRIBEs it challenged in its current run.
    pub fn challenges(&self) -> usize {
        self.log().matches("challenging SUBSCRIBE").count()
    }

    /// Stops it (everything it held is lost).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            let started = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && started.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Stops it and starts it again on the same port, with nothing held.
    pub fn restart(&mut self) {
        self.stop();
        std::thread::sleep(Duration::from_millis(200));
        self.launch();
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Adds `owner`'s rls-services document (RFC 4826) holding `list` to the db_text
/// `xcap` table, where Kamailio's integrated XCAP server finds it (doc_type 8).
fn write_rls_service(db: &Path, owner: &str, list: &str, members: &[String]) {
    let (user, domain) = owner
        .trim_start_matches("sip:")
        .split_once('@')
        .expect("sip:user@domain");
    let entries: String = members
        .iter()
        .map(|m| format!("<rl:entry uri=\"{m}\"/>"))
        .collect();
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rls-services xmlns=\"urn:ietf:params:xml:ns:rls-services\" xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\"><service uri=\"{list}\"><list name=\"desk\">{entries}</list><packages><package>presence</package></packages></service></rls-services>"
    );
    // db_text: ':' separates columns, '\\' escapes.
    let escape = |text: &str| text.replace('\\', "\\\\").replace(':', "\\:");
    let row = format!(
        "1:{}:{}:{}:8:etag-1:0:{}:0\n",
        escape(user),
        escape(domain),
        escape(&doc),
        escape(&format!("rls-services/users/{list}/index"))
    );
    let path = db.join("xcap");
    let mut table = std::fs::read_to_string(&path).expect("xcap table");
    table.push_str(&row);
    std::fs::write(&path, table).expect("xcap row");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("dbtext tables") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

const SIP_ETAG: Name = Name::custom("SIP-ETag", &["sip-etag"]);
const SIP_IF_MATCH: Name = Name::custom("SIP-If-Match", &["sip-if-match"]);

/// A phone: PUBLISHes presence and dialog state to Kamailio over UDP, replacing its
/// own earlier publication (SIP-If-Match) as a real phone does; each call's dialog
/// state is a publication of its own, as Kamailio's `pua_dialoginfo` makes them
/// (Kamailio takes no update to a publication once its dialog has ended).
pub struct Phone {
    endpoint: Endpoint,
    server: String,
    cseq: u32,
    /// The entity tag of each publication: presentity, event, call (or "").
    etags: std::collections::HashMap<(String, String, String), String>,
}

impl Phone {
    pub async fn new(kamailio: &Kamailio) -> Self {
        let mut builder = Endpoint::builder();
        builder
            .bind_udp("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("udp");
        Self {
            endpoint: builder.build(),
            server: format!("sip:127.0.0.1:{}", kamailio.port),
            cseq: 0,
            etags: std::collections::HashMap::new(),
        }
    }

    /// PUBLISHes a body for `event` (`presence` or `dialog`) of `uri`; expects 200.
    pub async fn publish(&mut self, uri: &str, event: &str, body: &str) {
        self.publish_of(uri, event, "", body).await;
    }

    /// PUBLISHes the dialog state of one call of `uri`, replacing that call's last.
    pub async fn publish_call(&mut self, uri: &str, call: &str, body: &str) {
        self.publish_of(uri, "dialog", call, body).await;
    }

    async fn publish_of(&mut self, uri: &str, event: &str, call: &str, body: &str) {
        self.cseq += 1;
        let presentity: SipUri = uri.parse().expect("uri");
        let mut request = Request::new(Method::PUBLISH, presentity.clone());
        let tag = format!("p{}", self.cseq);
        request.headers.insert_type(
            Name::FROM,
            &FromTo::new(
                NameAddr::uri(presentity.clone()),
                Some(BytesStr::from(tag.as_str())),
            ),
        );
        request
            .headers
            .insert_type(Name::TO, &FromTo::new(NameAddr::uri(presentity), None));
        request.headers.insert_named(&CallID::new(BytesStr::from(
            format!("publish-{}-{}", std::process::id(), self.cseq).as_str(),
        )));
        request
            .headers
            .insert_named(&CSeq::new(self.cseq, Method::PUBLISH));
        request.headers.insert(Name::MAX_FORWARDS, "70");
        request.headers.insert_named(&Event::new(event));
        request.headers.insert_named(&Expires(3600));
        let content_type = if event == "dialog" {
            "application/dialog-info+xml"
        } else {
            "application/pidf+xml"
        };
        request.headers.insert(Name::CONTENT_TYPE, content_type);
        let key = (uri.to_owned(), event.to_owned(), call.to_owned());
        if let Some(etag) = self.etags.get(&key) {
            request.headers.insert(SIP_IF_MATCH, etag.clone());
        }
        request.body = bytes::Bytes::from(body.to_owned());
        let server: SipUri = self.server.parse().expect("server");
        let (transport, destination) = self
            .endpoint
            .select_transport(&server)
            .await
            .expect("transport");
        let mut target = TargetTransportInfo {
            via_host_port: None,
            transport: Some((transport, destination)),
        };
        let mut tsx = self
            .endpoint
            .send_request(request, &mut target)
            .await
            .expect("PUBLISH sent");
        let response = tsx.receive_final().await.expect("PUBLISH answered");
        assert_eq!(
            response.line.code.into_u16(),
            200,
            "PUBLISH of {event} for {uri}"
        );
        if let Some(etag) = response.headers.get_raw(&SIP_ETAG).next() {
            self.etags.insert(key, etag.as_str().to_owned());
        }
    }
}

/// A PIDF body: `basic` open or closed, with RPID `activities` (element names) and a
/// note.
pub fn pidf(uri: &str, basic: &str, activities: &[&str], note: Option<&str>) -> String {
    let activities = if activities.is_empty() {
        String::new()
    } else {
        let inner: String = activities.iter().map(|a| format!("<rpid:{a}/>")).collect();
        format!("<dm:person id=\"p1\"><rpid:activities>{inner}</rpid:activities></dm:person>")
    };
    let note = note
        .map(|n| format!("<note>{n}</note>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="{uri}"><tuple id="t1"><status><basic>{basic}</basic></status></tuple>{activities}{note}</presence>"#
    )
}

/// A dialog-info body with one dialog, `call1`, in `state` (or none).
pub fn dialog_info(uri: &str, version: u32, state: Option<&str>) -> String {
    dialog_info_of_call(uri, version, "call1", state)
}

/// A dialog-info body with the dialog `call` in `state` (or none).
pub fn dialog_info_of_call(uri: &str, version: u32, call: &str, state: Option<&str>) -> String {
    let dialog = state
        .map(|s| {
            format!(r#"<dialog id="{call}" direction="recipient"><state>{s}</state></dialog>"#)
        })
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="{version}" state="full" entity="{uri}">{dialog}</dialog-info>"#
    )
}
