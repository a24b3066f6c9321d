//! The SIP SIMPLE source against a real Kamailio on a loopback port: phones (played by
//! the tests) PUBLISH presence and dialog state, the gateway's watcher SUBSCRIBEs and
//! the hub shows what the NOTIFYs say.
// A test crate: an `expect` fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    pub mod kamailio;
}

use std::sync::Arc;
use std::time::{Duration, Instant};

use presence_domain::{
    Activity, Availability, Colleague, SourceState, Technology, WinningTechnology,
};
use presence_hub::{DirectoryUpdate, HubSettings, PresenceHub};
use presence_sources::graph::secret::Secret;
use presence_sources::sip::{self, SipConfig, SipTransport};
use support::kamailio::{Kamailio, KamailioOptions, Phone, dialog_info, dialog_info_of_call, pidf};

/// One Kamailio test at a time: each runs a server of nine processes, and the
/// 2-second goals are about the gateway, not a machine swamped by eight servers.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ANNA: &str = "anna.rossi@contoso.com";
const MARCO: &str = "marco.rossi@contoso.com";
const JOSE: &str = "jose.garcia@contoso.com";

fn hub() -> Arc<PresenceHub> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TEST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
    let hub = PresenceHub::new(HubSettings {
        winning_technology: WinningTechnology::SipSimple,
        ms_teams_enabled: true,
    });
    let colleagues = [ANNA, MARCO, JOSE].map(|upn| Colleague {
        id: upn.to_owned(),
        upn: upn.to_owned(),
        mail: upn.to_owned(),
        display_name: upn.to_owned(),
        ..Colleague::default()
    });
    hub.apply_directory(
        colleagues
            .into_iter()
            .map(DirectoryUpdate::Upsert)
            .collect(),
    );
    hub
}

fn config(kamailio: &Kamailio, transport: SipTransport) -> SipConfig {
    SipConfig {
        port: kamailio.port,
        transport,
        user: "gateway".to_owned(),
        ..SipConfig::new("127.0.0.1", "contoso.com")
    }
}

fn shown(hub: &PresenceHub, upn: &str) -> (Availability, Activity, Technology) {
    let view = hub.view();
    let slot = view.slot_of(upn).expect("in the directory");
    let presence = view.entry(slot).expect("entry").presence;
    (
        presence.availability,
        presence.activity.clone(),
        presence.technology,
    )
}

fn sip_health(hub: &PresenceHub) -> Option<(SourceState, String)> {
    hub.view()
        .sources()
        .iter()
        .find(|s| s.technology == Technology::SipSimple)
        .map(|s| (s.state, s.detail.clone()))
}

async fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

async fn wait_for_state(
    hub: &PresenceHub,
    upn: &str,
    availability: Availability,
    activity: Activity,
) -> Duration {
    let what = format!("{upn} {availability:?}/{activity:?}");
    wait_until(&what, Duration::from_secs(2), || {
        let (a, b, t) = shown(hub, upn);
        a == availability && b == activity && t == Technology::SipSimple
    })
    .await
}

fn uri(upn: &str) -> String {
    format!("sip:{upn}")
}

/// The company's hub watched by a SIP source started with `config`, and a phone; the
/// source stops when this is dropped.
struct Watching {
    hub: Arc<PresenceHub>,
    source: tokio::task::JoinHandle<()>,
    phone: Phone,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.source.abort();
    }
}

async fn start_watching(kamailio: &Kamailio, config: SipConfig) -> Watching {
    let hub = hub();
    let source = sip::spawn(hub.clone(), config).await.expect("starts");
    Watching {
        hub,
        source,
        phone: Phone::new(kamailio).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_presence_reaches_the_hub_within_two_seconds() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(kamailio) = Kamailio::start(KamailioOptions::default()) else {
        return;
    };
    let mut watching = start_watching(&kamailio, config(&kamailio, SipTransport::Udp)).await;
    let (hub, phone) = (&watching.hub, &mut watching.phone);
    wait_until("the SIP source is live", Duration::from_secs(10), || {
        sip_health(hub).is_some_and(|(state, _)| state == SourceState::Live)
    })
    .await;
    for (basic, activities, note, availability, activity) in [
        (
            "open",
            &["on-the-phone"][..],
            None,
            Availability::Busy,
            Activity::InACall,
        ),
        (
            "open",
            &["away"][..],
            None,
            Availability::Away,
            Activity::Away,
        ),
        (
            "open",
            &[][..],
            None,
            Availability::Available,
            Activity::Available,
        ),
        (
            "closed",
            &[][..],
            None,
            Availability::Offline,
            Activity::Offline,
        ),
        // Asterisk's style: closed, and the line state in a note.
        (
            "closed",
            &[][..],
            Some("On the phone"),
            Availability::Busy,
            Activity::InACall,
        ),
    ] {
        phone
            .publish(
                &uri(ANNA),
                "presence",
                &pidf(&uri(ANNA), basic, activities, note),
            )
            .await;
        let took = wait_for_state(hub, ANNA, availability, activity.clone()).await;
        eprintln!("{basic} {activities:?} {note:?} -> {availability:?}/{activity:?} in {took:?}");
    }
    // Nobody published for Marco: Unknown, so another technology could stand in.
    let (availability, _, _) = shown(hub, MARCO);
    assert_eq!(availability, Availability::PresenceUnknown);
}

/// Watching over UDP, with Jose published available (and seen so) before his calls.
async fn watching_jose_available(kamailio: &Kamailio) -> Watching {
    let mut watching = start_watching(kamailio, config(kamailio, SipTransport::Udp)).await;
    watching
        .phone
        .publish(&uri(JOSE), "presence", &pidf(&uri(JOSE), "open", &[], None))
        .await;
    let hub = &watching.hub;
    wait_until("Jose available", Duration::from_secs(10), || {
        shown(hub, JOSE).0 == Availability::Available
    })
    .await;
    watching
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_confirmed_then_terminated_busies_the_line_and_frees_it() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(kamailio) = Kamailio::start(KamailioOptions::default()) else {
        return;
    };
    let mut watching = watching_jose_available(&kamailio).await;
    let (hub, phone) = (&watching.hub, &mut watching.phone);
    // Ringing, answered, hung up: the line is busy until the dialog ends.
    for (version, state, availability, activity) in [
        (1, "early", Availability::Busy, Activity::InACall),
        (2, "confirmed", Availability::Busy, Activity::InACall),
        (
            3,
            "terminated",
            Availability::Available,
            Activity::Available,
        ),
    ] {
        phone
            .publish(
                &uri(JOSE),
                "dialog",
                &dialog_info(&uri(JOSE), version, Some(state)),
            )
            .await;
        wait_for_state(hub, JOSE, availability, activity).await;
    }
}

/// Kamailio reads a colleague's state before it numbers the NOTIFY: two publications
/// a moment apart, handled by two of its workers, can reach the watcher with the
/// older state numbered last (seen here: `terminated` as CSeq 33, then `confirmed`
/// as 34). Calls that change back to back, round after round, must each end shown as
/// they ended, whichever way the state went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_call_changes_end_in_the_last_state() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(kamailio) = Kamailio::start(KamailioOptions::default()) else {
        return;
    };
    let mut watching = watching_jose_available(&kamailio).await;
    let (hub, phone) = (&watching.hub, &mut watching.phone);
    let mut version = 0;
    for round in 0..30 {
        let (this_call, next_call) = (format!("call{round}"), format!("call{}", round + 1));
        // Answered and hung up; or answered, hung up and the next call ringing at once.
        let (steps, availability) = if round % 2 == 0 {
            (
                [
                    (&this_call, "early"),
                    (&this_call, "confirmed"),
                    (&this_call, "terminated"),
                ],
                Availability::Available,
            )
        } else {
            (
                [
                    (&this_call, "confirmed"),
                    (&this_call, "terminated"),
                    (&next_call, "early"),
                ],
                Availability::Busy,
            )
        };
        for (call, state) in steps {
            version += 1;
            phone
                .publish_call(
                    &uri(JOSE),
                    call,
                    &dialog_info_of_call(&uri(JOSE), version, call, Some(state)),
                )
                .await;
        }
        // Past the moment a late NOTIFY would land.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let what = format!("round {round} ends {availability:?}");
        wait_until(&what, Duration::from_secs(3), || {
            shown(hub, JOSE).0 == availability
        })
        .await;
    }
}

async fn with_password(algorithm: &'static str, right: bool) {
    let Some(kamailio) = Kamailio::start(KamailioOptions {
        auth: Some((algorithm, "s3cret-watcher")),
        ..KamailioOptions::default()
    }) else {
        return;
    };
    let hub = hub();
    let mut config = config(&kamailio, SipTransport::Udp);
    config.password = Some(Secret::new(if right { "s3cret-watcher" } else { "wrong" }));
    let source = sip::spawn(hub.clone(), config).await.expect("starts");
    if right {
        wait_until(
            "live with the right password",
            Duration::from_secs(10),
            || sip_health(&hub).is_some_and(|(state, _)| state == SourceState::Live),
        )
        .await;
        let mut phone = Phone::new(&kamailio).await;
        phone
            .publish(
                &uri(ANNA),
                "presence",
                &pidf(&uri(ANNA), "open", &["meeting"], None),
            )
            .await;
        wait_for_state(&hub, ANNA, Availability::Busy, Activity::InAMeeting).await;
    } else {
        wait_until("stale with the reason", Duration::from_secs(10), || {
            sip_health(&hub).is_some_and(|(state, detail)| {
                state == SourceState::Stale && detail.contains("refused the password")
            })
        })
        .await;
        // Six subscriptions wanted; a wrong password costs one probe and its one
        // answer to the challenge, not a flood.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let challenges = kamailio.challenges();
        assert!(
            (1..=2).contains(&challenges),
            "{challenges} SUBSCRIBEs challenged with a wrong password"
        );
    }
    source.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_md5_right_and_wrong_password() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    with_password("MD5", true).await;
    with_password("MD5", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_sha256_right_and_wrong_password() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    with_password("SHA-256", true).await;
    with_password("SHA-256", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_expiry_is_refreshed_and_a_restarted_server_is_recovered() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(mut kamailio) = Kamailio::start(KamailioOptions {
        max_expires: 10,
        ..KamailioOptions::default()
    }) else {
        return;
    };
    let mut watching = start_watching(&kamailio, config(&kamailio, SipTransport::Tcp)).await;
    let hub = &watching.hub;
    let phone = &mut watching.phone;
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["busy"], None),
        )
        .await;
    wait_until("Anna busy", Duration::from_secs(10), || {
        shown(hub, ANNA).0 == Availability::Busy
    })
    .await;
    // Past the 10 s granted: only a refreshed subscription still brings changes.
    tokio::time::sleep(Duration::from_secs(12)).await;
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["lunch"], None),
        )
        .await;
    wait_for_state(hub, ANNA, Availability::Away, Activity::Away).await;

    // A restart loses every subscription and publication at the server.
    kamailio.restart();
    let mut phone = Phone::new(&kamailio).await;
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["presentation"], None),
        )
        .await;
    wait_until(
        "recovered after the restart",
        Duration::from_secs(20),
        || {
            shown(hub, ANNA)
                == (
                    Availability::DoNotDisturb,
                    Activity::Presenting,
                    Technology::SipSimple,
                )
        },
    )
    .await;
}

/// How long a whole company takes to reach its first complete SIP state: every
/// colleague published, then the watcher started. Short in `cargo test` (200
/// colleagues); `SIP_SCALE_COLLEAGUES=10000 SIP_SCALE_RATE=1000` for the long form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_company_reaches_its_first_complete_state() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let colleagues: usize = std::env::var("SIP_SCALE_COLLEAGUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rate: u32 = std::env::var("SIP_SCALE_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let Some(kamailio) = Kamailio::start(KamailioOptions {
        shared_memory_mb: 512,
        ..KamailioOptions::default()
    }) else {
        return;
    };
    let hub = PresenceHub::new(HubSettings {
        winning_technology: WinningTechnology::SipSimple,
        ms_teams_enabled: true,
    });
    let upns: Vec<String> = (0..colleagues)
        .map(|n| format!("user{n}@contoso.com"))
        .collect();
    hub.apply_directory(
        upns.iter()
            .map(|upn| {
                DirectoryUpdate::Upsert(Colleague {
                    id: upn.clone(),
                    upn: upn.clone(),
                    display_name: upn.clone(),
                    ..Colleague::default()
                })
            })
            .collect(),
    );
    let published = Instant::now();
    let mut phone = Phone::new(&kamailio).await;
    for upn in &upns {
        phone
            .publish(
                &uri(upn),
                "presence",
                &pidf(&uri(upn), "open", &["away"], None),
            )
            .await;
    }
    eprintln!("{colleagues} publications in {:?}", published.elapsed());
    let mut config = config(&kamailio, SipTransport::Udp);
    config.subscribes_per_sec = rate;
    let started = Instant::now();
    let source = sip::spawn(hub.clone(), config).await.expect("starts");
    let limit = Duration::from_secs(60 + 2 * colleagues as u64 / u64::from(rate).max(1));
    let took = wait_until("every colleague's first state", limit, || {
        let view = hub.view();
        (0..view.slot_count()).all(|slot| {
            view.entry(slot)
                .is_none_or(|e| e.presence.availability == Availability::Away)
        })
    })
    .await;
    eprintln!(
        "{colleagues} colleagues ({} subscriptions, {rate} SUBSCRIBEs/s): first complete state in {:?} after the start",
        colleagues * 2,
        took.max(started.elapsed().min(took))
    );
    source.abort();
}

/// One resource list subscription (RFC 4662) brings the presence of everyone on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_list_brings_everyone_in_one_subscription() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let list = "sip:front-desk@contoso.com".to_owned();
    let Some(kamailio) = Kamailio::start(KamailioOptions {
        rls_list: Some((
            "sip:gateway@contoso.com".to_owned(),
            list.clone(),
            vec![uri(ANNA), uri(MARCO), uri(JOSE)],
        )),
        ..KamailioOptions::default()
    }) else {
        return;
    };
    let hub = hub();
    let mut phone = Phone::new(&kamailio).await;
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["meeting"], None),
        )
        .await;
    phone
        .publish(
            &uri(JOSE),
            "presence",
            &pidf(&uri(JOSE), "closed", &[], None),
        )
        .await;
    let mut config = config(&kamailio, SipTransport::Tcp);
    config.rls_uri = Some(list);
    config.watch_dialogs = false;
    let source = sip::spawn(hub.clone(), config).await.expect("starts");
    wait_until("everyone on the list", Duration::from_secs(15), || {
        shown(&hub, ANNA)
            == (
                Availability::Busy,
                Activity::InAMeeting,
                Technology::SipSimple,
            )
            && shown(&hub, JOSE).0 == Availability::Offline
    })
    .await;
    // A change comes through the list subscription too.
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["on-the-phone"], None),
        )
        .await;
    wait_until(
        "Anna's change through the list",
        Duration::from_secs(10),
        || shown(&hub, ANNA).1 == Activity::InACall,
    )
    .await;
    assert_eq!(shown(&hub, MARCO).0, Availability::PresenceUnknown);
    source.abort();
}

/// SIP over TLS: the server's certificate checked against a company CA, NOTIFYs back
/// over the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_over_tls_with_a_company_ca() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(kamailio) = Kamailio::start(KamailioOptions {
        tls: true,
        ..KamailioOptions::default()
    }) else {
        return;
    };
    let mut config = config(&kamailio, SipTransport::Tls);
    config.port = kamailio.tls_port;
    config.tls_ca_file = Some(kamailio.ca_file());
    let mut watching = start_watching(&kamailio, config).await;
    let (hub, phone) = (&watching.hub, &mut watching.phone);
    phone
        .publish(
            &uri(ANNA),
            "presence",
            &pidf(&uri(ANNA), "open", &["away"], None),
        )
        .await;
    wait_until("Anna away, over TLS", Duration::from_secs(10), || {
        shown(hub, ANNA) == (Availability::Away, Activity::Away, Technology::SipSimple)
    })
    .await;
    drop(watching);

    // Without the company CA the server is not trusted: no presence, a stale source.
    let hub = self::hub();
    let mut untrusting = self::config(&kamailio, SipTransport::Tls);
    untrusting.port = kamailio.tls_port;
    let source = sip::spawn(hub.clone(), untrusting).await.expect("starts");
    wait_until(
        "stale: the certificate is not trusted",
        Duration::from_secs(10),
        || {
            sip_health(&hub).is_some_and(|(state, detail)| {
                state == SourceState::Stale && detail.contains("no answer")
            })
        },
    )
    .await;
    assert_eq!(shown(&hub, ANNA).0, Availability::PresenceUnknown);
    source.abort();
}
