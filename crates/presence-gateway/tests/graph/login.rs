//! Device-code sign-in: the prompt, polling at the interval asked, the stored refresh
//! token, and sign-ins that expire or are declined.

use std::path::PathBuf;
use std::time::Duration;

use presence_sources::graph::{
    self, AuthError, IdentitySettings, LoginRequest, ProxySetting, credentials,
};

use crate::fake::{CLIENT_ID, Fake, TENANT};

fn login_request(fake: &Fake, path: PathBuf) -> LoginRequest {
    LoginRequest {
        identity: IdentitySettings {
            authority_url: fake.url(),
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            scope: graph::graph_scopes("https://graph.microsoft.com"),
        },
        credentials_path: path,
        protocol_second: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn device_code_sign_in_end_to_end() {
    let fake = Fake::start().await;
    fake.with(|s| {
        s.device_script = ["authorization_pending", "slow_down", "ok"].into();
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data").join(credentials::CREDENTIALS_FILE);
    let http =
        graph::http::build_client(&ProxySetting::Direct, Duration::from_secs(5)).expect("client");
    let mut prompt = None;
    let stored = graph::login(&http, &login_request(&fake, path.clone()), |p| {
        prompt = Some(p.clone())
    })
    .await
    .expect("signed in");
    let prompt = prompt.expect("prompt shown");
    assert_eq!(prompt.user_code, "ABCD-EFGH");
    assert_eq!(prompt.verification_uri, "https://microsoft.com/devicelogin");

    let (forms, polls) = fake.with(|s| (s.device_code_forms.clone(), s.device_polls.clone()));
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["client_id"], CLIENT_ID);
    assert_eq!(
        forms[0]["scope"],
        "https://graph.microsoft.com/Presence.Read.All https://graph.microsoft.com/User.ReadBasic.All offline_access"
    );
    assert_eq!(polls.len(), 3, "pending, slow_down, granted");
    // interval 1 (50 ms here); after slow_down, 1 + 5 = 6 (300 ms here).
    let after_pending = polls[1].0 - polls[0].0;
    let after_slow_down = polls[2].0 - polls[1].0;
    assert!(
        after_pending >= Duration::from_millis(50),
        "{after_pending:?}"
    );
    assert!(
        after_slow_down >= Duration::from_millis(300),
        "slow_down honoured: {after_slow_down:?}"
    );

    assert_eq!(stored.refresh_token.expose(), "refresh-1");
    let on_disk = credentials::load(&path).expect("readable").expect("stored");
    assert_eq!(on_disk, stored);
    assert_eq!(on_disk.tenant, TENANT);
    assert_eq!(on_disk.client_id, CLIENT_ID);
    let text = std::fs::read_to_string(&path).expect("file");
    assert!(
        !text.contains("access-1"),
        "the access token is never stored"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    fake.assert_no_problems();
}

#[tokio::test]
async fn device_code_sign_in_expired_and_declined() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(credentials::CREDENTIALS_FILE);
    let http =
        graph::http::build_client(&ProxySetting::Direct, Duration::from_secs(5)).expect("client");
    fake.with(|s| s.device_script = ["authorization_pending", "expired_token"].into());
    let err = graph::login(&http, &login_request(&fake, path.clone()), |_| {})
        .await
        .expect_err("expired");
    assert!(matches!(err, AuthError::CodeExpired), "{err:?}");
    assert!(err.to_string().contains("presence-gateway login"));
    fake.with(|s| s.device_script = ["access_denied"].into());
    let err = graph::login(&http, &login_request(&fake, path.clone()), |_| {})
        .await
        .expect_err("declined");
    assert!(matches!(err, AuthError::Declined { .. }), "{err:?}");
    assert!(!path.exists(), "nothing stored without a sign-in");
}
