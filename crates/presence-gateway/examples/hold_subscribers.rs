//! Holds many subscriptions to a gateway, for measuring what they cost it:
//! `hold_subscribers URL COUNT read|stop SECONDS`. Each subscription watches everyone
//! over its own connection. `read` reads everything; `stop` never reads after the
//! subscription is admitted. Prints `ready` once every subscription is open (with
//! `read`, once each has its whole snapshot), then holds them for SECONDS and exits.
// An example: an `expect` here ends it with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use presence_contract::{connect, proto};
use tokio_stream::wrappers::ReceiverStream;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let reads = args.get(3).is_none_or(|m| m != "stop");
    let seconds: u64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(10);

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(count.max(1));
    let mut tasks = Vec::new();
    for _ in 0..count {
        let url = url.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = connect(&url, None).await.expect("connects");
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            tx.send(proto::SubscribeRequest {
                request: Some(proto::subscribe_request::Request::WatchAll(
                    proto::WatchAllRequest { resume: None },
                )),
            })
            .await
            .expect("request");
            let mut stream = client
                .subscribe(ReceiverStream::new(rx))
                .await
                .expect("admitted")
                .into_inner();
            if !reads {
                let _ = ready.send(()).await;
                tokio::time::sleep(Duration::from_secs(3_600)).await;
                drop((tx, stream));
                return;
            }
            let mut is_ready = false;
            while let Ok(Some(message)) = stream.message().await {
                if !is_ready
                    && let Some(proto::subscribe_response::Event::Snapshot(page)) = message.event
                    && page.last_page
                {
                    is_ready = true;
                    let _ = ready.send(()).await;
                }
            }
            drop(tx);
        }));
    }
    for _ in 0..count {
        ready_rx.recv().await.expect("a subscription got ready");
    }
    println!("ready");
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    for task in tasks {
        task.abort();
    }
}
