//! Fan-out benchmarks of the presence gateway.
//!
//! - `hub_fanout/N`: presence deliveries per second from the hub to N subscribers, each
//!   watching all of 100,000 colleagues. One delivery = a changed colleague marked in a
//!   subscriber's queue, taken out, read back at its latest state and turned into its
//!   wire message (what each subscription task does before writing to its stream).
//! - `initial_sync_100k`: a real client over loopback gRPC lists a 100,000-colleague
//!   directory and receives the presence snapshot of everyone.
// A benchmark crate: an `expect` in a helper fails the benchmark that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use presence_contract::connect;
use presence_contract::proto;
use presence_domain::{Availability, Colleague, Presence, Technology, WinningTechnology};
use presence_gateway::{GatewayConfig, server};
use presence_hub::{DirectoryUpdate, HubSettings, PresenceHub};

const COLLEAGUES: usize = 100_000;
const BATCH: usize = 1_000;

fn colleague(n: usize) -> Colleague {
    Colleague {
        id: format!("{n:08x}-0000-4000-a000-000000000000"),
        upn: format!("user.number{n}@contoso.com"),
        display_name: format!("User Number {n}"),
        given_name: "User".into(),
        surname: format!("Number {n}"),
        mail: format!("user.number{n}@contoso.com"),
        department: "Customer Service".into(),
        job_title: "Customer Service Agent".into(),
        office: "Milan".into(),
        business_phones: vec![format!("+39 02 5550 {:04}", n % 10_000)],
        mobile_phone: String::new(),
    }
}

fn presence(n: usize, availability: Availability) -> Presence {
    Presence {
        availability,
        since: SystemTime::now(),
        ..Presence::unknown(&format!("user.number{n}@contoso.com"))
    }
}

fn hub() -> std::sync::Arc<PresenceHub> {
    let hub = PresenceHub::new(HubSettings {
        winning_technology: WinningTechnology::MsTeams,
        ms_teams_enabled: true,
    });
    hub.apply_directory(
        (0..COLLEAGUES)
            .map(|n| DirectoryUpdate::Upsert(colleague(n)))
            .collect(),
    );
    hub.publish(
        Technology::MsTeams,
        (0..COLLEAGUES)
            .map(|n| presence(n, Availability::Available))
            .collect(),
    );
    hub
}

fn hub_fanout(c: &mut Criterion) {
    let hub = hub();
    let mut group = c.benchmark_group("hub_fanout");
    for subscribers in [1usize, 10, 100] {
        let queues: Vec<_> = (0..subscribers)
            .map(|_| {
                let q = hub.subscribe();
                hub.watch_all(&q);
                q
            })
            .collect();
        // The same 1,000 colleagues alternate between Busy and Available: every
        // publish is a real change for each of them.
        let batches: Vec<Vec<Presence>> = [Availability::Busy, Availability::Available]
            .iter()
            .map(|&a| {
                (0..BATCH)
                    .map(|k| presence((k * 97) % COLLEAGUES, a))
                    .collect()
            })
            .collect();
        let mut round = 0usize;
        group.throughput(Throughput::Elements((BATCH * subscribers) as u64));
        group.bench_function(format!("{subscribers}"), |b| {
            b.iter(|| {
                round += 1;
                hub.publish(Technology::MsTeams, batches[round % 2].clone());
                let mut delivered = 0usize;
                for queue in &queues {
                    let (pending, _) = hub.take(queue);
                    let view = hub.view();
                    let wire: Vec<proto::Presence> = pending
                        .presence_slots
                        .iter()
                        .filter_map(|&slot| view.entry(slot))
                        .map(|e| proto::Presence::from(e.presence))
                        .collect();
                    delivered += wire.len();
                }
                assert_eq!(delivered, BATCH * subscribers);
            });
        });
        drop(queues);
    }
    group.finish();
}

fn initial_sync(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let gateway = runtime
        .block_on(server::start(hub(), GatewayConfig::loopback_ephemeral()))
        .expect("gateway");
    let url = gateway.endpoint_url();
    let mut group = c.benchmark_group("initial_sync");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("directory_and_snapshot_100k", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut client = connect(&url, None).await.expect("connect");
                let mut pages = client
                    .list_directory(proto::ListDirectoryRequest { page_size: 10_000 })
                    .await
                    .expect("list")
                    .into_inner();
                let mut colleagues = 0;
                while let Some(page) = pages.message().await.expect("page") {
                    colleagues += page.colleagues.len();
                }
                assert_eq!(colleagues, COLLEAGUES);
                let (tx, rx) = tokio::sync::mpsc::channel(1);
                tx.send(proto::SubscribeRequest {
                    request: Some(proto::subscribe_request::Request::WatchAll(
                        proto::WatchAllRequest { resume: None },
                    )),
                })
                .await
                .expect("send");
                let mut stream = client
                    .subscribe(tokio_stream::wrappers::ReceiverStream::new(rx))
                    .await
                    .expect("subscribe")
                    .into_inner();
                let mut presences = 0;
                while let Some(message) = stream.message().await.expect("message") {
                    if let Some(proto::subscribe_response::Event::Snapshot(s)) = message.event {
                        presences += s.presences.len();
                        if s.last_page {
                            break;
                        }
                    }
                }
                assert_eq!(presences, COLLEAGUES);
            })
        });
    });
    group.finish();
    runtime.block_on(async { gateway.shutdown().await.expect("shutdown") });
}

criterion_group!(benches, hub_fanout, initial_sync);
criterion_main!(benches);
