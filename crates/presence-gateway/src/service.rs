//! The `ucx.presence.v1.PresenceService` gRPC service over the presence hub.
//!
//! Each subscription is one task that alone writes to its stream, so what a client
//! receives is always in order: a snapshot of what it starts watching, then batches of
//! the latest presence of whoever changed, directory changes, and heartbeats. A slow
//! client only makes its own task wait; the hub keeps marking colleagues dirty, and the
//! task sends their latest state when the client catches up.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use presence_contract::convert::timestamp_from_system_time;
use presence_contract::proto;
use presence_contract::proto::presence_service_server::PresenceService;
use presence_domain::colleague::validate_upn;
use presence_hub::{DirectoryChange, PresenceHub, SubscriberQueue};

use crate::subscription_limits::{GatewayLimits, SubscriptionLimits, SubscriptionPermit};

/// Default and largest page of `ListDirectory`.
pub const DEFAULT_DIRECTORY_PAGE: u32 = 1_000;
pub const MAX_DIRECTORY_PAGE: u32 = 10_000;
/// Most UPNs in one `GetPresence` or one watch request.
pub const MAX_UPNS_PER_REQUEST: usize = 10_000;
/// Most UPNs one subscription may watch explicitly (watch-all has no limit).
pub const MAX_WATCHED_UPNS: usize = 200_000;
/// Most memory the UPNs a subscription watches before they are in the directory may
/// take (their text plus a fixed overhead each): about 13,000 UPNs of typical length.
pub const MAX_PENDING_UPN_BYTES: usize = 1 << 20;
/// Encoded bytes a subscription message stays under (unless one item alone is larger):
/// each stream's encode buffer keeps the size of its largest message, so this bounds
/// what every subscriber holds (with 250 presences a message the buffer grew to 64 KiB,
/// half of what a subscriber cost).
pub use presence_contract::limits::STREAM_MESSAGE_BYTES as MESSAGE_BYTES;
/// Colleagues read from the hub under one look at its state.
const SLOTS_PER_READ: usize = 256;
/// Messages buffered per subscriber stream before its task waits for the client: small,
/// so a subscriber's memory does not grow with what it has not read.
const STREAM_BUFFER: usize = 2;

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct PresenceServiceImpl {
    hub: Arc<PresenceHub>,
    heartbeat_interval: Duration,
    shutdown: watch::Receiver<bool>,
    limits: Arc<SubscriptionLimits>,
    stalled_subscriber_timeout: Duration,
}

impl PresenceServiceImpl {
    pub fn new(
        hub: Arc<PresenceHub>,
        heartbeat_interval: Duration,
        shutdown: watch::Receiver<bool>,
        limits: &GatewayLimits,
    ) -> Self {
        Self {
            hub,
            heartbeat_interval,
            shutdown,
            limits: SubscriptionLimits::new(limits),
            stalled_subscriber_timeout: limits.stalled_subscriber_timeout,
        }
    }

    /// Subscriptions open now.
    pub fn open_subscriptions(&self) -> usize {
        self.limits.open()
    }
}

#[tonic::async_trait]
impl PresenceService for PresenceServiceImpl {
    type ListDirectoryStream = ResponseStream<proto::ListDirectoryResponse>;
    type SubscribeStream = ResponseStream<proto::SubscribeResponse>;

    async fn list_directory(
        &self,
        request: Request<proto::ListDirectoryRequest>,
    ) -> Result<Response<Self::ListDirectoryStream>, Status> {
        let page_size = match request.get_ref().page_size {
            0 => DEFAULT_DIRECTORY_PAGE,
            n if n > MAX_DIRECTORY_PAGE => {
                return Err(Status::invalid_argument(format!(
                    "page_size {n} is larger than the maximum of {MAX_DIRECTORY_PAGE}"
                )));
            }
            n => n,
        } as usize;
        let (colleagues, revision) = {
            let view = self.hub.view();
            let colleagues: Vec<_> = (0..view.slot_count())
                .filter_map(|slot| view.entry(slot).map(|e| e.colleague.clone()))
                .collect();
            (colleagues, view.directory_revision())
        };
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let total_count = colleagues.len() as u32;
            let pages = colleagues.len().div_ceil(page_size).max(1);
            for page in 0..pages {
                let chunk = colleagues
                    .get(page * page_size..((page + 1) * page_size).min(colleagues.len()))
                    .unwrap_or_default();
                let message = proto::ListDirectoryResponse {
                    colleagues: chunk.iter().map(|c| proto::Colleague::from(&**c)).collect(),
                    directory_revision: revision,
                    total_count,
                    last_page: page + 1 == pages,
                };
                if tx.send(Ok(message)).await.is_err() {
                    return; // the client left
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_presence(
        &self,
        request: Request<proto::GetPresenceRequest>,
    ) -> Result<Response<proto::GetPresenceResponse>, Status> {
        let upns = request.into_inner().upns;
        if upns.len() > MAX_UPNS_PER_REQUEST {
            return Err(Status::resource_exhausted(format!(
                "{} UPNs requested; at most {MAX_UPNS_PER_REQUEST} per request",
                upns.len()
            )));
        }
        check_upns(&upns)?;
        let view = self.hub.view();
        let mut response = proto::GetPresenceResponse::default();
        for upn in upns {
            match view.slot_of(&upn).and_then(|slot| view.entry(slot)) {
                Some(entry) => response
                    .presences
                    .push(proto::Presence::from(entry.presence)),
                None => response.unknown_upns.push(upn),
            }
        }
        Ok(Response::new(response))
    }

    async fn subscribe(
        &self,
        request: Request<Streaming<proto::SubscribeRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let permit = self.limits.try_acquire(request.remote_addr())?;
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let session = Subscription {
            hub: self.hub.clone(),
            queue: self.hub.subscribe(),
            tx,
            shutdown: self.shutdown.clone(),
            stalled_timeout: self.stalled_subscriber_timeout,
            _permit: permit,
        };
        tokio::spawn(session.run(inbound, self.heartbeat_interval, self.shutdown.clone()));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

fn check_upns(upns: &[String]) -> Result<(), Status> {
    for (index, upn) in upns.iter().enumerate() {
        if let Err(err) = validate_upn(upn) {
            return Err(Status::invalid_argument(format!("upns[{index}]: {err}")));
        }
    }
    Ok(())
}

type Outbound = mpsc::Sender<Result<proto::SubscribeResponse, Status>>;

/// Why a subscription ends.
enum End {
    /// The client went away or finished; nothing more to send.
    ClientGone,
    /// End the stream with this status.
    Status(Status),
}

struct Subscription {
    hub: Arc<PresenceHub>,
    queue: Arc<SubscriberQueue>,
    tx: Outbound,
    /// Raced by every send, so a client that stops reading cannot hold up shutdown.
    shutdown: watch::Receiver<bool>,
    /// How long a send may wait for a client that does not read before it is cut off.
    stalled_timeout: Duration,
    /// Its place under the subscription limits, given back when the task ends.
    _permit: SubscriptionPermit,
}

/// How long the final status of a subscription may wait for a client that does not read.
const FINAL_STATUS_TIMEOUT: Duration = Duration::from_secs(1);

fn shutting_down() -> Status {
    Status::unavailable("the presence gateway is shutting down")
}

impl Subscription {
    async fn run(
        mut self,
        mut inbound: Streaming<proto::SubscribeRequest>,
        heartbeat_interval: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // The first heartbeat comes one interval in: the snapshot is what a client
        // hears first.
        let mut heartbeat = tokio::time::interval_at(
            tokio::time::Instant::now() + heartbeat_interval,
            heartbeat_interval,
        );
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A client that has sent all its requests may close its sending side (many
        // command-line and generated clients do): in gRPC that is not a cancellation,
        // so the subscription goes on until the client cancels or goes away.
        let mut is_inbound_open = true;
        let end = loop {
            let step = tokio::select! {
                biased;
                _ = shutdown.changed() => Err(End::Status(shutting_down())),
                () = self.tx.closed() => Err(End::ClientGone),
                message = inbound.message(), if is_inbound_open => match message {
                    Ok(Some(request)) => self.handle_request(request).await,
                    Ok(None) => {
                        is_inbound_open = false;
                        Ok(())
                    }
                    // A request the server could not decode (too large, malformed) ends the
                    // stream with its status; if the client is gone, nobody reads it.
                    Err(status) => {
                        tracing::debug!(%status, "subscriber request stream failed");
                        Err(End::Status(status))
                    }
                },
                () = self.queue.changed() => self.send_pending().await,
                _ = heartbeat.tick() => self.send_heartbeat().await,
            };
            if let Err(end) = step {
                break end;
            }
        };
        if let End::Status(status) = end {
            tracing::debug!(%status, "ending subscription");
            // A client that stopped reading may never take it: do not wait for ever.
            let _ = tokio::time::timeout(FINAL_STATUS_TIMEOUT, self.tx.send(Err(status))).await;
        }
    }

    async fn handle_request(&mut self, request: proto::SubscribeRequest) -> Result<(), End> {
        use proto::subscribe_request::Request as R;
        match request.request {
            None => Err(End::Status(Status::invalid_argument(
                "SubscribeRequest carries no request (watch, watch_all or unwatch)",
            ))),
            Some(R::Watch(watch)) => {
                if watch.upns.len() > MAX_UPNS_PER_REQUEST {
                    return Err(End::Status(Status::resource_exhausted(format!(
                        "{} UPNs in one watch request; at most {MAX_UPNS_PER_REQUEST}",
                        watch.upns.len()
                    ))));
                }
                check_upns(&watch.upns).map_err(End::Status)?;
                let (watched_now, _) = self.queue.watch_counts();
                if watched_now + watch.upns.len() > MAX_WATCHED_UPNS {
                    return Err(End::Status(Status::resource_exhausted(format!(
                        "a subscription may watch at most {MAX_WATCHED_UPNS} UPNs; use watch_all to watch everyone"
                    ))));
                }
                let (slots, unknown, complete_through) = self
                    .hub
                    .try_watch(&self.queue, &watch.upns, MAX_PENDING_UPN_BYTES)
                    .map_err(|full| {
                        End::Status(Status::resource_exhausted(format!(
                            "UPNs not in the directory would take {} KiB in this subscription; at most {} KiB (unwatch some, or watch only colleagues in the directory)",
                            full.would_hold / 1024,
                            full.limit / 1024
                        )))
                    })?;
                self.send_snapshot(slots, unknown, watch.resume.as_ref(), complete_through)
                    .await
            }
            Some(R::WatchAll(all)) => {
                let (slots, complete_through) = self.hub.watch_all(&self.queue);
                self.send_snapshot(slots, Vec::new(), all.resume.as_ref(), complete_through)
                    .await
            }
            Some(R::Unwatch(unwatch)) => {
                if unwatch.upns.len() > MAX_UPNS_PER_REQUEST {
                    return Err(End::Status(Status::resource_exhausted(format!(
                        "{} UPNs in one unwatch request; at most {MAX_UPNS_PER_REQUEST}",
                        unwatch.upns.len()
                    ))));
                }
                self.hub.unwatch(&self.queue, &unwatch.upns);
                Ok(())
            }
        }
    }

    /// Sends one message, waiting while the client's buffer is full, unless the
    /// gateway starts shutting down meanwhile.
    async fn send(&self, event: proto::subscribe_response::Event) -> Result<(), End> {
        let message = proto::SubscribeResponse { event: Some(event) };
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            biased;
            sent = tokio::time::timeout(self.stalled_timeout, self.tx.send(Ok(message))) => {
                match sent {
                    Ok(sent) => sent.map_err(|_| End::ClientGone),
                    Err(_) => {
                        tracing::info!(
                            secs = self.stalled_timeout.as_secs_f32(),
                            "cutting off a subscriber that stopped reading"
                        );
                        Err(End::Status(Status::resource_exhausted(format!(
                            "this subscriber read nothing for {} s and was cut off; subscribe again (with resume) when ready",
                            self.stalled_timeout.as_secs()
                        ))))
                    }
                }
            }
            _ = shutdown.wait_for(|&stop| stop) => Err(End::Status(shutting_down())),
        }
    }

    async fn send_snapshot(
        &self,
        slots: Vec<u32>,
        unknown_upns: Vec<String>,
        resume: Option<&proto::ResumeFrom>,
        complete_through: u64,
    ) -> Result<(), End> {
        let after_version = resume
            .filter(|r| r.gateway_instance_id == self.hub.instance_id())
            .map(|r| r.after_version);
        let mut page = MessagePacker::default();
        for upn in unknown_upns {
            let len = upn.len();
            if let Some(full) = page.push(SnapshotItem::Unknown(upn), len) {
                self.send_snapshot_page(full, false, 0, after_version.is_some())
                    .await?;
            }
        }
        for chunk in slots.chunks(SLOTS_PER_READ) {
            let presences: Vec<proto::Presence> = {
                let view = self.hub.view();
                chunk
                    .iter()
                    .filter_map(|&slot| view.entry(slot))
                    .filter(|e| after_version.is_none_or(|after| e.presence.version > after))
                    .map(|e| proto::Presence::from(e.presence))
                    .collect()
            };
            for presence in presences {
                let len = prost::Message::encoded_len(&presence);
                if let Some(full) = page.push(SnapshotItem::Presence(presence), len) {
                    self.send_snapshot_page(full, false, 0, after_version.is_some())
                        .await?;
                }
            }
        }
        // The last page (perhaps empty: an empty watch set still gets one) carries the
        // version everything sent so far completes.
        self.send_snapshot_page(
            page.finish(),
            true,
            complete_through,
            after_version.is_some(),
        )
        .await
    }

    async fn send_snapshot_page(
        &self,
        items: Vec<SnapshotItem>,
        is_last: bool,
        complete_through_version: u64,
        is_delta: bool,
    ) -> Result<(), End> {
        let mut presences = Vec::with_capacity(items.len());
        let mut unknown_upns = Vec::new();
        for item in items {
            match item {
                SnapshotItem::Presence(presence) => presences.push(presence),
                SnapshotItem::Unknown(upn) => unknown_upns.push(upn),
            }
        }
        let snapshot = proto::Snapshot {
            presences,
            unknown_upns,
            last_page: is_last,
            // Every page reads the latest state, which is at least as new as what was
            // current when the watch began.
            complete_through_version,
            gateway_instance_id: self.hub.instance_id().to_owned(),
            directory_revision: self.hub.view().directory_revision(),
            is_delta,
        };
        self.send(proto::subscribe_response::Event::Snapshot(snapshot))
            .await
    }

    async fn send_pending(&self) -> Result<(), End> {
        let (pending, complete_through) = self.hub.take(&self.queue);
        if let Some(&(last_revision, _)) = pending.directory_changes.last() {
            let mut message = MessagePacker::default();
            for (_, change) in &pending.directory_changes {
                let change = directory_change_to_wire(change);
                let len = prost::Message::encoded_len(&change);
                if let Some(full) = message.push(change, len) {
                    // 0 until the last message: a client cut off half way has not
                    // caught up with any revision.
                    self.send_directory_changes(full, 0).await?;
                }
            }
            // The revision these changes complete, not one read later.
            self.send_directory_changes(message.finish(), last_revision)
                .await?;
        }
        let mut batch = MessagePacker::default();
        for chunk in pending.presence_slots.chunks(SLOTS_PER_READ) {
            let presences: Vec<proto::Presence> = {
                let view = self.hub.view();
                chunk
                    .iter()
                    .filter_map(|&slot| view.entry(slot))
                    .map(|e| proto::Presence::from(e.presence))
                    .collect()
            };
            for presence in presences {
                let len = prost::Message::encoded_len(&presence);
                if let Some(full) = batch.push(presence, len) {
                    self.send_updates(full, 0).await?;
                }
            }
        }
        let last = batch.finish();
        if !last.is_empty() {
            // After the last batch the client holds everything up to the version that
            // was current when this work was taken.
            self.send_updates(last, complete_through).await?;
        }
        if pending.is_health_changed {
            self.send_heartbeat().await?;
        }
        Ok(())
    }

    async fn send_updates(
        &self,
        presences: Vec<proto::Presence>,
        complete_through_version: u64,
    ) -> Result<(), End> {
        self.send(proto::subscribe_response::Event::Updates(
            proto::PresenceBatch {
                presences,
                complete_through_version,
            },
        ))
        .await
    }

    async fn send_directory_changes(
        &self,
        changes: Vec<proto::DirectoryChange>,
        directory_revision: u64,
    ) -> Result<(), End> {
        self.send(proto::subscribe_response::Event::Directory(
            proto::DirectoryChanges {
                changes,
                directory_revision,
            },
        ))
        .await
    }

    async fn send_heartbeat(&self) -> Result<(), End> {
        let heartbeat = heartbeat(&self.hub);
        self.send(proto::subscribe_response::Event::Heartbeat(heartbeat))
            .await
    }
}

/// What a snapshot page holds.
enum SnapshotItem {
    Presence(proto::Presence),
    Unknown(String),
}

/// Groups a stream's items into messages of at most [`MESSAGE_BYTES`] encoded.
struct MessagePacker<T> {
    items: Vec<T>,
    bytes: usize,
}

impl<T> Default for MessagePacker<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            bytes: 0,
        }
    }
}

impl<T> MessagePacker<T> {
    /// Adds an item of `len` encoded bytes; returns the message so far when the item
    /// does not fit in it (the item then starts the next one).
    fn push(&mut self, item: T, len: usize) -> Option<Vec<T>> {
        // A repeated field's item costs its tag, its length and itself.
        let cost = 1 + prost::encoding::encoded_len_varint(len as u64) + len;
        let full = (!self.items.is_empty() && self.bytes + cost > MESSAGE_BYTES).then(|| {
            self.bytes = 0;
            std::mem::take(&mut self.items)
        });
        self.bytes += cost;
        self.items.push(item);
        full
    }

    /// What is left: empty only when nothing was ever pushed.
    fn finish(self) -> Vec<T> {
        self.items
    }
}

fn heartbeat(hub: &PresenceHub) -> proto::Heartbeat {
    let view = hub.view();
    proto::Heartbeat {
        server_time: Some(timestamp_from_system_time(SystemTime::now())),
        directory_revision: view.directory_revision(),
        latest_version: hub.latest_version(),
        sources: view
            .sources()
            .iter()
            .map(proto::SourceHealth::from)
            .collect(),
    }
}

fn directory_change_to_wire(change: &DirectoryChange) -> proto::DirectoryChange {
    let (kind, colleague) = match change {
        DirectoryChange::Added(c) => (proto::DirectoryChangeKind::Added, c),
        DirectoryChange::Changed(c) => (proto::DirectoryChangeKind::Changed, c),
        DirectoryChange::Removed(c) => (proto::DirectoryChangeKind::Removed, c),
    };
    proto::DirectoryChange {
        kind: kind as i32,
        colleague: Some(proto::Colleague::from(&**colleague)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_under_the_byte_budget_and_lose_nothing() {
        let mut packer = MessagePacker::default();
        let mut messages = Vec::new();
        for item in 0..10_000usize {
            // Items of 1 to 300 bytes, and one larger than a whole message.
            let len = if item == 5_000 {
                MESSAGE_BYTES * 2
            } else {
                1 + item % 300
            };
            if let Some(full) = packer.push((item, len), len) {
                messages.push(full);
            }
        }
        messages.push(packer.finish());
        let items: Vec<usize> = messages.iter().flatten().map(|&(item, _)| item).collect();
        assert_eq!(
            items,
            (0..10_000).collect::<Vec<_>>(),
            "every item, in order"
        );
        for message in &messages {
            let bytes: usize = message
                .iter()
                .map(|&(_, len)| 1 + prost::encoding::encoded_len_varint(len as u64) + len)
                .sum();
            assert!(
                bytes <= MESSAGE_BYTES || message.len() == 1,
                "{} items, {bytes} bytes",
                message.len()
            );
        }
        assert!(messages.len() > 100, "{} messages", messages.len());
        assert!(MessagePacker::<u8>::default().finish().is_empty());
    }
}
