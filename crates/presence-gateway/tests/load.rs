//! The load-and-fault suite: many subscribers over real gRPC on loopback, some slow,
//! some half-closing their request stream, some that stop reading, while presence
//! changes flow and the gateway is killed and restarted mid-run. At the end every
//! subscriber that reads must hold exactly the hub's final state, and none may ever
//! have seen an older version of a colleague after a newer one.
//!
//! Bounded in time and count. The short form runs with `cargo test` (and in CI); the
//! long form is one command:
//!
//! ```sh
//! LOAD_SUBSCRIBERS=400 LOAD_SECONDS=30 LOAD_USERS=20000 LOAD_UPDATES_PER_SEC=5000 \
//!     cargo test --release -p presence-gateway --test load -- --nocapture
//! ```
//!
//! It prints deliveries per second, change-to-receipt latency (p50, p99) and the test
//! process's peak memory (gateway and clients together).
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use presence_contract::{connect, proto};
use presence_domain::{Availability, Presence, Technology, WinningTechnology};
use presence_gateway::{GatewayConfig, GatewayError, GatewayLimits, RunningGateway, server};
use presence_hub::PresenceHub;
use presence_test_support::hub_with;
use tokio_stream::wrappers::ReceiverStream;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads everything as it comes.
    Reader,
    /// Reads, pausing after every message.
    Slow,
    /// Sends its request, then closes its sending side.
    HalfClosed,
    /// Subscribes and never reads.
    Stopped,
}

/// What one subscriber holds and saw.
#[derive(Default)]
struct View {
    presences: HashMap<String, (u64, i32)>,
    instance_id: String,
    complete_through: u64,
    /// Presences received in update batches.
    deliveries: u64,
    /// An older version of a colleague after a newer one.
    went_backwards: u64,
    reconnects: u64,
    latencies_us: Vec<u64>,
}

impl View {
    fn apply(&mut self, message: proto::SubscribeResponse) {
        use proto::subscribe_response::Event;
        match message.event {
            Some(Event::Snapshot(page)) => {
                self.instance_id = page.gateway_instance_id.clone();
                for p in page.presences {
                    self.keep(&p, !page.is_delta);
                }
                if page.last_page {
                    self.complete_through = page.complete_through_version;
                }
            }
            Some(Event::Updates(batch)) => {
                let now = SystemTime::now();
                for p in batch.presences {
                    self.deliveries += 1;
                    if let Some(since) = p.since.as_ref()
                        && let Ok(latency) = now.duration_since(
                            presence_contract::convert::system_time_from_timestamp(since),
                        )
                    {
                        self.latencies_us.push(latency.as_micros() as u64);
                    }
                    self.keep(&p, false);
                }
                if batch.complete_through_version > 0 {
                    self.complete_through = batch.complete_through_version;
                }
            }
            _ => {}
        }
    }

    fn keep(&mut self, p: &proto::Presence, is_authoritative: bool) {
        let key = p.upn.to_lowercase();
        match self.presences.get(&key) {
            Some(&(held, _)) if p.version < held && !is_authoritative => {
                self.went_backwards += 1;
            }
            _ => {
                self.presences.insert(key, (p.version, p.availability));
            }
        }
    }
}

async fn run_subscriber(url: String, kind: Kind, view: Arc<Mutex<View>>, done: Arc<AtomicBool>) {
    while !done.load(Ordering::Relaxed) {
        let Ok(mut client) = connect(&url, None).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let resume = {
            let view = view.lock().expect("view");
            (!view.instance_id.is_empty()).then(|| proto::ResumeFrom {
                gateway_instance_id: view.instance_id.clone(),
                after_version: view.complete_through,
            })
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let _ = tx.send(presence_test_support::watch_all(resume)).await;
        let _requests = (kind != Kind::HalfClosed).then_some(tx);
        let Ok(response) = client.subscribe(ReceiverStream::new(rx)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut stream = response.into_inner();
        if kind == Kind::Stopped {
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), stream.message()).await;
            match next {
                Ok(Ok(Some(message))) => view.lock().expect("view").apply(message),
                Ok(_) => break, // ended: reconnect and resume
                Err(_) if done.load(Ordering::Relaxed) => return,
                Err(_) => continue,
            }
            if kind == Kind::Slow {
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }
        view.lock().expect("view").reconnects += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start_on(hub: Arc<PresenceHub>, listen: SocketAddr) -> RunningGateway {
    // After a kill the old listener closes when its task is next polled: a busy
    // runtime may take a moment, so binding the same port again is retried.
    let mut attempts = 0;
    loop {
        let started = server::start(
            hub.clone(),
            GatewayConfig {
                listen,
                heartbeat_interval: Duration::from_millis(500),
                limits: GatewayLimits {
                    stalled_subscriber_timeout: Duration::from_secs(1),
                    ..GatewayLimits::default()
                },
                ..GatewayConfig::loopback_ephemeral()
            },
        )
        .await;
        match started {
            Ok(gateway) => return gateway,
            Err(GatewayError::Bind { .. }) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("gateway starts: {err}"),
        }
    }
}

/// The hub's state: UPN -> (version, availability on the wire).
fn hub_state(hub: &PresenceHub) -> HashMap<String, (u64, i32)> {
    let view = hub.view();
    (0..view.slot_count())
        .filter_map(|slot| view.entry(slot))
        .map(|e| {
            let wire = proto::Presence::from(e.presence);
            (wire.upn.to_lowercase(), (wire.version, wire.availability))
        })
        .collect()
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_subscribers_through_a_restart_end_with_the_hubs_state() {
    let subscribers = setting("LOAD_SUBSCRIBERS", 24).max(4);
    let seconds = setting("LOAD_SECONDS", 3).max(1);
    let users = setting("LOAD_USERS", 3_000).max(10);
    let updates_per_sec = setting("LOAD_UPDATES_PER_SEC", 1_000).max(100);

    let hub = hub_with(users, WinningTechnology::MsTeams);
    let gateway = start_on(hub.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let listen = gateway.local_addr();
    let url = gateway.endpoint_url();

    let done = Arc::new(AtomicBool::new(false));
    let mut views = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..subscribers {
        // One in eight slow, one in eight half-closed, one in eight stopped.
        let kind = match n % 8 {
            1 => Kind::Slow,
            2 => Kind::HalfClosed,
            3 => Kind::Stopped,
            _ => Kind::Reader,
        };
        let view = Arc::new(Mutex::new(View::default()));
        views.push((kind, view.clone()));
        tasks.push(tokio::spawn(run_subscriber(
            url.clone(),
            kind,
            view,
            done.clone(),
        )));
    }

    // Changes at the set rate, from another thread, while the gateway is killed and
    // restarted half way.
    let publishing = Arc::new(AtomicBool::new(true));
    let publisher = {
        let hub = hub.clone();
        let publishing = publishing.clone();
        std::thread::Builder::new()
            .name("load-publisher".into())
            .spawn(move || {
                let cycle = [
                    Availability::Available,
                    Availability::Busy,
                    Availability::Away,
                    Availability::DoNotDisturb,
                    Availability::BeRightBack,
                ];
                let mut n = 0usize;
                let mut published = 0usize;
                while publishing.load(Ordering::Relaxed) {
                    let batch: Vec<Presence> = (0..updates_per_sec / 100)
                        .map(|_| {
                            n = n.wrapping_add(7_919);
                            Presence {
                                availability: cycle[n % cycle.len()],
                                since: SystemTime::now(),
                                ..Presence::unknown(&format!("user{}@contoso.com", n % users))
                            }
                        })
                        .collect();
                    published += batch.len();
                    hub.publish(Technology::MsTeams, batch);
                    std::thread::sleep(Duration::from_millis(10));
                }
                published
            })
            .expect("publisher thread")
    };
    let run_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds as u64) / 2).await;
    gateway.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gateway = start_on(hub.clone(), listen).await;
    tokio::time::sleep(Duration::from_secs(seconds as u64) / 2).await;
    publishing.store(false, Ordering::Relaxed);
    let published = publisher.join().expect("publisher");
    let run_time = run_started.elapsed();

    // Quiet now: every subscriber that reads must reach the hub's final state.
    let expected = hub_state(&hub);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let behind: Vec<usize> = views
            .iter()
            .enumerate()
            .filter(|(_, (kind, _))| *kind != Kind::Stopped)
            .filter(|(_, (_, view))| view.lock().expect("view").presences != expected)
            .map(|(n, _)| n)
            .collect();
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "subscribers {behind:?} never reached the hub's final state"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }

    let mut deliveries = 0;
    let mut latencies = Vec::new();
    let mut reconnects = 0;
    for (kind, view) in &views {
        let view = view.lock().expect("view");
        assert_eq!(
            view.went_backwards, 0,
            "a {kind:?} subscriber saw a version go back"
        );
        if *kind != Kind::Stopped {
            assert!(
                view.reconnects >= 1,
                "a {kind:?} subscriber lived through the restart"
            );
        }
        deliveries += view.deliveries;
        reconnects += view.reconnects;
        latencies.extend_from_slice(&view.latencies_us);
    }
    assert!(deliveries > 0);
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get(latencies.len() * p / 100)
            .map_or(0.0, |&us| us as f64 / 1000.0)
    };
    println!(
        "load: {subscribers} subscribers (1 in 8 slow, 1 in 8 half-closed, 1 in 8 not reading), {users} colleagues, {published} changes in {:.1} s with a kill and restart half way; {deliveries} deliveries ({:.0}/s), change-to-receipt latency p50 {:.1} ms, p99 {:.1} ms; {reconnects} reconnects; peak memory of the test process {}",
        run_time.as_secs_f64(),
        deliveries as f64 / run_time.as_secs_f64(),
        percentile(50),
        percentile(99),
        peak_memory_mib().map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MiB")),
    );
    gateway.shutdown().await.expect("shutdown");
}
