//! The gateway end to end: a real tonic server on 127.0.0.1:0 and real clients.
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use presence_test_support as common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use presence_contract::AccessToken;
use presence_contract::connect;
use presence_contract::proto;
use presence_domain::{Availability, Technology, WinningTechnology};
use presence_gateway::{GatewayConfig, GatewayError, server};
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::simulator::{self, SimulatorConfig};

#[tokio::test]
async fn directory_streams_in_pages_with_one_revision() {
    let gateway = start(hub_with(2_500, WinningTechnology::MsTeams)).await;
    let mut client = client(&gateway).await;
    let mut stream = client
        .list_directory(proto::ListDirectoryRequest { page_size: 1_000 })
        .await
        .expect("listing starts")
        .into_inner();
    let mut pages = Vec::new();
    while let Some(page) = stream.message().await.expect("page") {
        pages.push(page);
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages.iter().map(|p| p.colleagues.len()).collect::<Vec<_>>(),
        [1_000, 1_000, 500]
    );
    assert!(
        pages
            .iter()
            .all(|p| p.total_count == 2_500 && p.directory_revision == pages[0].directory_revision)
    );
    assert_eq!(
        pages.iter().map(|p| p.last_page).collect::<Vec<_>>(),
        [false, false, true]
    );
    let upns: std::collections::HashSet<_> = pages
        .iter()
        .flat_map(|p| p.colleagues.iter().map(|c| c.upn.clone()))
        .collect();
    assert_eq!(upns.len(), 2_500);

    let err = client
        .list_directory(proto::ListDirectoryRequest { page_size: 50_000 })
        .await
        .expect_err("too large a page");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("page_size 50000"),
        "{}",
        err.message()
    );
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn get_presence_answers_unknown_upns_without_failing_the_batch() {
    let gateway = start(hub_with(10, WinningTechnology::MsTeams)).await;
    let mut client = client(&gateway).await;
    let response = client
        .get_presence(proto::GetPresenceRequest {
            upns: vec!["USER3@contoso.com".into(), "nobody@contoso.com".into()],
        })
        .await
        .expect("answer")
        .into_inner();
    assert_eq!(response.presences.len(), 1);
    assert_eq!(response.presences[0].upn, "user3@contoso.com");
    assert_eq!(
        response.presences[0].availability,
        proto::Availability::Available as i32
    );
    assert_eq!(response.unknown_upns, vec!["nobody@contoso.com".to_owned()]);

    let err = client
        .get_presence(proto::GetPresenceRequest {
            upns: vec!["not a upn".into()],
        })
        .await
        .expect_err("malformed");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = client
        .get_presence(proto::GetPresenceRequest {
            upns: (0..10_001).map(|n| format!("u{n}@x")).collect(),
        })
        .await
        .expect_err("too many");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn snapshot_then_updates_watch_and_unwatch() {
    let hub = hub_with(50, WinningTechnology::MsTeams);
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch(&[
        "user1@contoso.com",
        "User2@Contoso.com",
        "later@contoso.com",
    ]))
    .await;
    let (snapshot, unknown, page) = sub.snapshot().await;
    let mut upns: Vec<_> = snapshot.iter().map(|p| p.upn.clone()).collect();
    upns.sort();
    assert_eq!(upns, ["user1@contoso.com", "user2@contoso.com"]);
    assert_eq!(unknown, ["later@contoso.com"]);
    assert!(!page.gateway_instance_id.is_empty());
    let v1 = snapshot
        .iter()
        .find(|p| p.upn == "user1@contoso.com")
        .expect("user1")
        .version;

    // A change of a watched colleague arrives; one of an unwatched colleague does not.
    hub.publish(
        Technology::MsTeams,
        vec![
            presence(7, Availability::Busy),
            presence(1, Availability::Busy),
        ],
    );
    let batch = sub.updates().await;
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].upn, "user1@contoso.com");
    assert_eq!(batch[0].availability, proto::Availability::Busy as i32);
    assert!(batch[0].version > v1);

    // Unwatch user1: only user2's change comes through.
    sub.send(unwatch(&["user1@contoso.com"])).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    hub.publish(
        Technology::MsTeams,
        vec![
            presence(1, Availability::Away),
            presence(2, Availability::Away),
        ],
    );
    let batch = sub.updates().await;
    assert_eq!(
        batch.iter().map(|p| p.upn.as_str()).collect::<Vec<_>>(),
        ["user2@contoso.com"]
    );

    // The pending UPN joins the directory: a directory change, then its presence.
    hub.apply_directory(vec![presence_hub::DirectoryUpdate::Upsert(
        presence_domain::Colleague {
            upn: "later@contoso.com".into(),
            display_name: "Later Joiner".into(),
            ..Default::default()
        },
    )]);
    match sub.next_event().await {
        proto::subscribe_response::Event::Directory(changes) => {
            assert_eq!(changes.changes.len(), 1);
            assert_eq!(
                changes.changes[0].kind,
                proto::DirectoryChangeKind::Added as i32
            );
        }
        other => panic!("expected a directory change, got {other:?}"),
    }
    let batch = sub.updates().await;
    assert_eq!(batch[0].upn, "later@contoso.com");
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_only_grow_per_colleague() {
    let hub = PresenceHub::new(HubSettings {
        winning_technology: WinningTechnology::MsTeams,
        ms_teams_enabled: true,
    });
    let sim = simulator::spawn(
        hub.clone(),
        SimulatorConfig {
            users: 300,
            seed: 5,
            changes_per_sec: 2_000.0,
            ..Default::default()
        },
    );
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(None)).await;
    let (snapshot, _, _) = sub.snapshot().await;
    let mut held: HashMap<String, u64> = snapshot.into_iter().map(|p| (p.upn, p.version)).collect();
    let mut updates = 0;
    while updates < 500 {
        for p in sub.updates().await {
            let previous = held.insert(p.upn.clone(), p.version).unwrap_or(0);
            assert!(
                p.version >= previous,
                "{}: version {} after {}",
                p.upn,
                p.version,
                previous
            );
            updates += 1;
        }
    }
    sim.abort();
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_ends_with_exactly_the_hubs_final_state() {
    const USERS: usize = 2_000;
    let hub = hub_with(USERS, WinningTechnology::MsTeams);
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(None)).await;
    let (snapshot, _, _) = sub.snapshot().await;
    assert_eq!(snapshot.len(), USERS);

    // 40 rounds of changes to everyone while the subscriber reads nothing.
    let cycle = [
        Availability::Busy,
        Availability::Away,
        Availability::DoNotDisturb,
        Availability::BeRightBack,
    ];
    for round in 0..40 {
        let batch = (0..USERS)
            .map(|n| presence(n, cycle[(round + n) % cycle.len()]))
            .collect();
        hub.publish(Technology::MsTeams, batch);
    }
    let expected: HashMap<String, (i32, u64)> = {
        let view = hub.view();
        (0..view.slot_count())
            .filter_map(|slot| view.entry(slot))
            .map(|e| {
                (
                    e.presence.upn.clone(),
                    (
                        proto::Availability::from(e.presence.availability) as i32,
                        e.presence.version,
                    ),
                )
            })
            .collect()
    };
    let mut held: HashMap<String, (i32, u64)> = HashMap::new();
    let mut messages = 0;
    while held != expected {
        for p in sub.updates().await {
            let previous = held.get(&p.upn).map(|h| h.1).unwrap_or(0);
            // The same version may come twice (marked dirty again while being read);
            // an older one never.
            assert!(p.version >= previous, "never older after newer");
            held.insert(p.upn.clone(), (p.availability, p.version));
        }
        messages += 1;
        assert!(
            messages < 200,
            "coalesced: far fewer messages than the 80,000 changes"
        );
    }
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn resume_sends_only_what_changed() {
    let hub = hub_with(100, WinningTechnology::MsTeams);
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(None)).await;
    let (snapshot, _, page) = sub.snapshot().await;
    let highest = snapshot.iter().map(|p| p.version).max().expect("versions");
    assert!(page.complete_through_version >= highest);
    // A change delivered as an update moves the resume point on.
    hub.publish(Technology::MsTeams, vec![presence(7, Availability::Away)]);
    let (batch, through) = loop {
        if let proto::subscribe_response::Event::Updates(batch) = sub.next_event().await {
            break (batch.presences, batch.complete_through_version);
        }
    };
    assert_eq!(batch.len(), 1);
    assert!(through >= batch[0].version && through > page.complete_through_version);
    let latest = through;
    drop(sub);
    hub.publish(Technology::MsTeams, vec![presence(5, Availability::Busy)]);

    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(Some(proto::ResumeFrom {
        gateway_instance_id: page.gateway_instance_id.clone(),
        after_version: latest,
    })))
    .await;
    let (delta, _, page) = sub.snapshot().await;
    assert!(page.is_delta);
    assert_eq!(
        delta.iter().map(|p| p.upn.as_str()).collect::<Vec<_>>(),
        ["user5@contoso.com"]
    );

    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(Some(proto::ResumeFrom {
        gateway_instance_id: "another-run".into(),
        after_version: latest,
    })))
    .await;
    let (full, _, page) = sub.snapshot().await;
    assert!(!page.is_delta);
    assert_eq!(full.len(), 100);
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn oversized_and_malformed_requests_are_refused_clearly() {
    let gateway = start(hub_with(10, WinningTechnology::MsTeams)).await;
    let mut client = client(&gateway).await;

    let mut sub = subscribe(&mut client).await;
    let upns: Vec<String> = (0..10_001).map(|n| format!("u{n}@x")).collect();
    sub.send(proto::SubscribeRequest {
        request: Some(proto::subscribe_request::Request::Watch(
            proto::WatchRequest { upns, resume: None },
        )),
    })
    .await;
    let status = sub.refusal().await;
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);

    let mut sub = subscribe(&mut client).await;
    sub.send(proto::SubscribeRequest { request: None }).await;
    let status = sub.refusal().await;
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // A message over the 1 MiB request limit.
    let mut sub = subscribe(&mut client).await;
    sub.send(watch(&[&format!("{}@x", "a".repeat(2 << 20))]))
        .await;
    let status = sub.refusal().await;
    assert!(
        matches!(
            status.code(),
            tonic::Code::ResourceExhausted | tonic::Code::OutOfRange | tonic::Code::Internal
        ),
        "{status:?}"
    );

    // The server is still fine.
    let mut sub = subscribe(&mut client).await;
    sub.send(watch(&["user1@contoso.com"])).await;
    assert_eq!(sub.snapshot().await.0.len(), 1);
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_ends_streams_with_a_status() {
    let gateway = start(hub_with(10, WinningTechnology::MsTeams)).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(None)).await;
    sub.snapshot().await;
    let shutdown = tokio::spawn(gateway.shutdown());
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(5), sub.stream.message())
            .await
            .expect("ends in time")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("stream ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert!(status.message().contains("shutting down"));
    shutdown.await.expect("joined").expect("clean shutdown");
}

#[tokio::test]
async fn auth_is_required_off_loopback_and_enforced() {
    let hub = hub_with(10, WinningTechnology::MsTeams);
    let open = GatewayConfig {
        listen: "0.0.0.0:0".parse().expect("addr"),
        ..GatewayConfig::loopback_ephemeral()
    };
    match server::start(hub.clone(), open).await {
        Err(GatewayError::TokenRequired(_)) => {}
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("must refuse to listen off loopback without a token"),
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("token");
    std::fs::write(&token_path, "correct-horse-battery-staple\n").expect("write token");
    let token = AccessToken::from_file(&token_path).expect("token");
    // The token's checks, on plain HTTP/2 (TLS is waived here; `tls.rs` tests TLS).
    let config = GatewayConfig {
        listen: "0.0.0.0:0".parse().expect("addr"),
        token: Some(token.clone()),
        allow_plaintext_off_loopback: true,
        ..GatewayConfig::loopback_ephemeral()
    };
    let gateway = server::start(hub, config)
        .await
        .expect("starts with a token");
    let url = format!("http://127.0.0.1:{}", gateway.local_addr().port());

    let mut anonymous = connect(&url, None).await.expect("connects");
    let err = anonymous
        .get_presence(proto::GetPresenceRequest {
            upns: vec!["user1@contoso.com".into()],
        })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    let wrong = AccessToken::new("wrong").expect("token");
    let mut impostor = connect(&url, Some(&wrong)).await.expect("connects");
    let err = impostor
        .get_presence(proto::GetPresenceRequest {
            upns: vec!["user1@contoso.com".into()],
        })
        .await
        .expect_err("bad token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert!(
        !err.message().contains("correct-horse"),
        "never echo the secret"
    );

    let mut trusted = connect(&url, Some(&token)).await.expect("connects");
    let ok = trusted
        .get_presence(proto::GetPresenceRequest {
            upns: vec!["user1@contoso.com".into()],
        })
        .await
        .expect("authorised");
    assert_eq!(ok.into_inner().presences.len(), 1);

    // Subscriptions are protected too.
    let (_tx, rx) = tokio::sync::mpsc::channel::<proto::SubscribeRequest>(1);
    let err = anonymous
        .subscribe(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn health_answers_serving() {
    let gateway = start(hub_with(1, WinningTechnology::MsTeams)).await;
    let channel = tonic::transport::Endpoint::from_shared(gateway.endpoint_url())
        .expect("url")
        .connect()
        .await
        .expect("connects");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in ["", "ucx.presence.v1.PresenceService"] {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health answers")
            .into_inner();
        assert_eq!(
            answer.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    gateway.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn heartbeats_carry_source_health() {
    let hub = hub_with(5, WinningTechnology::MsTeams);
    hub.set_source_health(Technology::MsTeams, presence_domain::SourceState::Live, "");
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut sub = subscribe(&mut client).await;
    sub.send(watch_all(None)).await;
    hub.set_source_health(
        Technology::MsTeams,
        presence_domain::SourceState::Stale,
        "Graph unreachable",
    );
    let heartbeat = loop {
        let message = tokio::time::timeout(Duration::from_secs(5), sub.stream.message())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open");
        if let Some(proto::subscribe_response::Event::Heartbeat(h)) = message.event
            && h.sources.iter().any(|s| {
                s.state == proto::SourceState::Stale as i32
                    && s.technology == proto::Technology::MsTeams as i32
            })
        {
            break h;
        }
    };
    let teams = heartbeat
        .sources
        .iter()
        .find(|s| s.technology == proto::Technology::MsTeams as i32)
        .expect("teams");
    assert_eq!(teams.detail, "Graph unreachable");
    assert!(heartbeat.latest_version > 0);
    gateway.shutdown().await.expect("clean shutdown");
}

/// The winning technology from Presence.ini decides, both ways.
#[tokio::test]
async fn winning_technology_from_presence_ini_works_both_ways() {
    for (ini_text, expected) in [
        (
            "MSTeamsPresence.Enable=1\nRichPresence.WinningTechnology=MSTeams\n",
            proto::Technology::MsTeams,
        ),
        (
            "MSTeamsPresence.Enable=1\nRichPresence.WinningTechnology=SipSimple\n",
            proto::Technology::SipSimple,
        ),
        (
            "MSTeamsPresence.Enable=0\nRichPresence.WinningTechnology=MSTeams\n",
            proto::Technology::SipSimple,
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Presence.ini");
        std::fs::write(&path, ini_text).expect("write");
        let ini = presence_gateway::presence_ini_file::load(&path).expect("valid ini");
        let hub = PresenceHub::new(HubSettings {
            winning_technology: ini.winning_technology,
            ms_teams_enabled: ini.ms_teams_enabled,
        });
        hub.apply_directory(vec![presence_hub::DirectoryUpdate::Upsert(colleague(1))]);
        hub.publish(Technology::MsTeams, vec![presence(1, Availability::Busy)]);
        hub.publish(
            Technology::SipSimple,
            vec![presence(1, Availability::Available)],
        );
        let gateway = start(hub).await;
        let mut client = client(&gateway).await;
        let answer = client
            .get_presence(proto::GetPresenceRequest {
                upns: vec!["user1@contoso.com".into()],
            })
            .await
            .expect("answer")
            .into_inner();
        assert_eq!(
            answer.presences[0].technology, expected as i32,
            "{ini_text}"
        );
        gateway.shutdown().await.expect("clean shutdown");
    }
}

#[test]
fn bad_presence_ini_lines_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Presence.ini");
    std::fs::write(
        &path,
        "; settings\nMSTeamsPresence.Enable=1\nRichPresence.WinningTechnology=Lync\n",
    )
    .expect("write");
    let err = presence_gateway::presence_ini_file::load(&path).expect_err("bad value");
    let text = err.to_string();
    assert!(text.contains("Presence.ini:3:"), "{text}");
    assert!(text.contains("MSTeams or SipSimple"), "{text}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_presence-gateway"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Presence.ini:3:"), "{stderr}");
}

#[test]
fn the_gateway_binary_refuses_open_listen_without_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_presence-gateway"))
        .args(["--listen", "0.0.0.0:0", "--version-file"])
        .arg(dir.path().join("version-floor"))
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token-file"), "{stderr}");
}

/// A client that sends its request and closes its sending side (as command-line gRPC
/// clients do) keeps its subscription: a half-close is not a cancellation.
#[tokio::test]
async fn a_half_closed_request_stream_keeps_the_subscription() {
    let hub = hub_with(3, WinningTechnology::MsTeams);
    let gateway = start(hub.clone()).await;
    let mut client = client(&gateway).await;
    let mut stream = client
        .subscribe(tokio_stream::iter([watch_all(None)]))
        .await
        .expect("subscribes")
        .into_inner();
    let mut next_event = async || loop {
        let message = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("an event within 5 s")
            .expect("the stream stays healthy")
            .expect("the stream stays open after the half-close");
        match message.event {
            Some(proto::subscribe_response::Event::Heartbeat(_)) | None => continue,
            Some(event) => return event,
        }
    };
    loop {
        match next_event().await {
            proto::subscribe_response::Event::Snapshot(page) if page.last_page => break,
            proto::subscribe_response::Event::Snapshot(_) => continue,
            other => panic!("expected the snapshot first, got {other:?}"),
        }
    }
    hub.publish(Technology::MsTeams, vec![presence(1, Availability::Busy)]);
    let updated = loop {
        if let proto::subscribe_response::Event::Updates(batch) = next_event().await {
            break batch.presences;
        }
    };
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].upn, "user1@contoso.com");
    assert_eq!(updated[0].availability, proto::Availability::Busy as i32);
    gateway.shutdown().await.expect("clean shutdown");
}

/// Asks a gateway's reflection service, in the version `$v` (`v1` or `v1alpha`, whose
/// generated types differ), for the names of the services it serves.
macro_rules! list_services {
    ($v:ident, $channel:expr) => {{
        let mut client = $v::server_reflection_client::ServerReflectionClient::new($channel);
        let request = $v::ServerReflectionRequest {
            host: String::new(),
            message_request: Some($v::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        };
        let mut answers = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect("reflection answers")
            .into_inner();
        let answer = answers.message().await.expect("an answer").expect("one");
        let Some($v::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
            answer.message_response
        else {
            panic!("expected a service list, got {answer:?}");
        };
        list.service
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<String>>()
    }};
}

/// Reflection answers in both versions: v1, and v1alpha (the Python grpcio-reflection
/// package, older tools).
#[tokio::test]
async fn reflection_lists_the_services_in_v1_and_v1alpha() {
    use tonic_reflection::pb::{v1, v1alpha};
    let gateway = start(hub_with(1, WinningTechnology::MsTeams)).await;
    let channel = tonic::transport::Endpoint::from_shared(gateway.endpoint_url())
        .expect("url")
        .connect()
        .await
        .expect("connects");
    let expected = [
        "ucx.presence.v1.PresenceService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ];

    let names = list_services!(v1, channel.clone());
    for name in expected {
        assert!(
            names.iter().any(|n| n == name),
            "v1 lists {name}: {names:?}"
        );
    }
    let names = list_services!(v1alpha, channel);
    assert!(
        names.iter().any(|n| n == "ucx.presence.v1.PresenceService"),
        "v1alpha lists the presence service: {names:?}"
    );
    gateway.shutdown().await.expect("clean shutdown");
}

/// Logs written to a pipe or a file (as under a service manager) carry no colour codes.
#[test]
fn the_gateway_logs_plain_text_into_a_pipe() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_presence-gateway"))
        .args(["--listen", "127.0.0.1:0", "--users", "10", "--version-file"])
        .arg(dir.path().join("version-floor"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut logged = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("a log line");
        logged.push_str(&line);
        logged.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(logged.contains("INFO"), "{logged}");
    assert!(logged.contains("listening"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "colour codes in a pipe: {logged:?}"
    );
}

/// A client that subscribes and then never reads cannot hold up shutdown: every send
/// races the shutdown signal, and connections still open after the grace are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_within_seconds_whatever_a_stuck_client_does() {
    use tokio_stream::StreamExt as _;
    let gateway = start(hub_with(20_000, WinningTechnology::MsTeams)).await;
    // A client with a tiny flow-control window that never reads: the snapshot of 20,000
    // presences cannot leave the gateway, and the subscription waits to send.
    let channel = tonic::transport::Endpoint::from_shared(gateway.endpoint_url())
        .expect("url")
        .initial_stream_window_size(Some(1_024))
        .initial_connection_window_size(Some(1_024))
        .connect()
        .await
        .expect("connects");
    let mut client = proto::presence_service_client::PresenceServiceClient::new(channel);
    let stuck = client
        .subscribe(tokio_stream::iter([watch_all(None)]).chain(tokio_stream::pending()))
        .await
        .expect("subscribes")
        .into_inner();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), gateway.shutdown())
        .await
        .expect("shutdown does not hang on a client that stopped reading")
        .expect("shutdown succeeds");
    println!("shutdown with a stuck client took {:?}", started.elapsed());
    drop(stuck);
}

/// UPNs not in the directory are kept for when they join, so what they may cost is
/// bounded in bytes, not only in count: long unknown UPNs are refused past 1 MiB.
#[tokio::test]
async fn unknown_upns_are_bounded_in_bytes_per_subscription() {
    let gateway = start(hub_with(1, WinningTechnology::MsTeams)).await;
    let mut client = client(&gateway).await;
    let mut subscription = subscribe(&mut client).await;
    // 3,000 UPNs of 300 characters: under the 1 MiB request limit, about 1 MiB pending.
    let long_upns = |from: usize| -> Vec<String> {
        (from..from + 3_000)
            .map(|n| format!("{n:06}{}@contoso.com", "x".repeat(282)))
            .collect()
    };
    let first = long_upns(0);
    let refs: Vec<&str> = first.iter().map(String::as_str).collect();
    subscription.send(watch(&refs)).await;
    let (_, unknown, _) = subscription.snapshot().await;
    assert_eq!(
        unknown.len(),
        3_000,
        "the first 1 MB of unknown UPNs is kept"
    );
    let second = long_upns(3_000);
    let refs: Vec<&str> = second.iter().map(String::as_str).collect();
    subscription.send(watch(&refs)).await;
    let status = subscription.refusal().await;
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("not in the directory"),
        "{status:?}"
    );
    gateway.shutdown().await.expect("clean shutdown");
}

/// Versions keep growing across restarts even when the clock has stepped back: the
/// gateway starts above the ceiling an earlier run reserved in its version file.
#[tokio::test]
async fn versions_start_above_an_earlier_runs_ceiling() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let version_file = dir.path().join("version-floor");
    let now_micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64;
    // An earlier run, with a clock eleven days ahead, reserved versions up to here.
    let floor = now_micros + 1_000_000_000_000;
    std::fs::write(&version_file, format!("{floor}\n")).expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_presence-gateway"))
        .args(["--listen", "127.0.0.1:0", "--users", "20", "--version-file"])
        .arg(&version_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("presence-gateway listening on ")
                .map(str::to_owned)
        })
        .expect("the gateway says where it listens");
    let mut client = connect(&url, None).await.expect("connects");
    let mut subscription = subscribe(&mut client).await;
    subscription.send(watch_all(None)).await;
    let (presences, _, last_page) = subscription.snapshot().await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(presences.len(), 20);
    assert!(
        presences.iter().all(|p| p.version > floor),
        "every version above the earlier ceiling {floor}"
    );
    assert!(last_page.complete_through_version > floor);
    let stored: u64 = std::fs::read_to_string(&version_file)
        .expect("read")
        .trim()
        .parse()
        .expect("a number");
    assert!(
        stored > last_page.complete_through_version,
        "the file reserves beyond what was issued: {stored}"
    );
}
