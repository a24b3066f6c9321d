//! The real `presence-gateway` binary: `login`, a tenant mismatch, then serving Graph
//! presence to a client.

use std::time::{Duration, Instant};

use presence_contract::proto;
use presence_sources::graph::credentials;
use presence_test_support as common;
use serde_json::json;

use crate::fake::{CLIENT_ID, Fake, TENANT};

/// A child process killed when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `presence-gateway login` and `presence-gateway --source graph`, the real binary.
#[tokio::test]
async fn binary_logs_in_then_serves_graph_presence() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let fake = Fake::start().await;
    fake.add_users(0..3);
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Away", "activity": "Away"}),
    );
    fake.with(|s| s.device_script = ["ok"].into());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(credentials::CREDENTIALS_FILE);
    let exe = env!("CARGO_BIN_EXE_presence-gateway");

    let login = {
        let (url, path) = (fake.url(), path.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(exe)
                .args(["login", "--tenant", TENANT, "--client-id", CLIENT_ID])
                .args(["--authority-url", &url, "--graph-base-url", &url])
                .arg("--credentials-file")
                .arg(&path)
                .env_remove("HTTPS_PROXY")
                .output()
                .expect("login runs")
        })
        .await
        .expect("login finished")
    };
    let stdout = String::from_utf8_lossy(&login.stdout);
    assert!(
        login.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(
        stdout.contains("https://microsoft.com/devicelogin"),
        "{stdout}"
    );
    assert!(stdout.contains("ABCD-EFGH"), "{stdout}");
    assert!(stdout.contains("Signed in"), "{stdout}");
    assert!(!stdout.contains("refresh-1") && !stdout.contains("access-1"));
    let scope = fake.with(|s| s.device_code_forms[0]["scope"].clone());
    assert_eq!(
        scope,
        format!(
            "{0}/Presence.Read.All {0}/User.ReadBasic.All offline_access",
            fake.url()
        )
    );

    let other_tenant = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(exe)
                .args(["--source", "graph", "--listen", "127.0.0.1:0"])
                .args(["--tenant", "fabrikam.onmicrosoft.com"])
                .arg("--credentials-file")
                .arg(&path)
                .output()
                .expect("gateway runs")
        })
        .await
        .expect("gateway finished")
    };
    assert!(!other_tenant.status.success());
    let stderr = String::from_utf8_lossy(&other_tenant.stderr);
    assert!(
        stderr.contains("is for tenant contoso.onmicrosoft.com"),
        "{stderr}"
    );

    let mut serve = Command::new(exe)
        .args(["--source", "graph", "--listen", "127.0.0.1:0"])
        .arg("--version-file")
        .arg(path.with_file_name("version-floor"))
        .args(["--graph-base-url", &fake.url(), "--proxy", &fake.url()])
        .arg("--credentials-file")
        .arg(&path)
        .args(["--heartbeat-secs", "1", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Child)
        .expect("gateway starts");
    let stdout = serve.0.stdout.take().expect("stdout");
    let endpoint = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a line");
        line.trim()
            .strip_prefix("presence-gateway listening on ")
            .expect("listening line")
            .to_owned()
    })
    .await
    .expect("endpoint");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let report = presence_gateway::check::check(
            &endpoint,
            None,
            &presence_contract::ClientTls::default(),
            Duration::from_secs(5),
        )
        .await;
        if report.as_ref().is_ok_and(|r| r.directory_size == 3) {
            break;
        }
        assert!(Instant::now() < deadline, "no directory: {report:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut client = presence_contract::connect(&endpoint, None)
        .await
        .expect("client connects");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut subscription = common::subscribe(&mut client).await;
        subscription
            .send(common::watch(&["user0@contoso.com"]))
            .await;
        let (presences, _, _) = subscription.snapshot().await;
        if presences
            .first()
            .is_some_and(|p| p.availability() == proto::Availability::Away)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no presence: {presences:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = fake.with(|s| s.presence_calls.clone());
    assert!(calls.iter().all(|c| c.authorization == "Bearer access-2"));
    fake.assert_no_problems();
    drop(serve);
}
