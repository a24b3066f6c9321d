//! Memory held by the panel's model of 100,000 colleagues (directory rows, presence and
//! the search index), measured with a counting allocator, against a budget.
//!
//! The budget is for the live heap the model keeps; the process's resident size adds the
//! GUI toolkit and the graphics driver (see the README's performance table).
// A test crate: an `expect` in a helper fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use presence_domain::search::SearchIndex;
use presence_panel::connection::PanelEvent;
use presence_panel::directory_model::{DirectoryModel, LoadProgress};
use presence_sources::simulator::{Simulator, SimulatorConfig};

struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, as the caller promised.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

const COLLEAGUES: usize = 100_000;
/// Live heap the model of 100,000 colleagues may take. It takes about 31 MiB for 16.7
/// MiB of text: the model drops directory ids, keeps departments, titles and offices
/// once for all, and a mail address that is the UPN or a display name that is "given
/// surname" once.
const MODEL_BUDGET_BYTES: usize = 36 * 1024 * 1024;
/// Of which the search index.
const INDEX_BUDGET_BYTES: usize = 12 * 1024 * 1024;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[test]
fn model_of_100k_colleagues_fits_its_budget() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let simulator = Simulator::new(
        SimulatorConfig {
            users: COLLEAGUES,
            seed: 1,
            ..Default::default()
        },
        now,
    );
    let directory = simulator.directory();
    let presence = simulator.current_presence();
    let text_bytes: usize = directory
        .iter()
        .map(|c| {
            c.id.len()
                + c.upn.len()
                + c.display_name.len()
                + c.given_name.len()
                + c.surname.len()
                + c.mail.len()
                + c.department.len()
                + c.job_title.len()
                + c.office.len()
                + c.mobile_phone.len()
                + c.business_phones.iter().map(String::len).sum::<usize>()
        })
        .sum();

    // What the gateway sends: one winning presence each (Teams wins where there is one).
    let mut presences = presence.teams.clone();
    let with_teams: std::collections::HashSet<&str> =
        presence.teams.iter().map(|p| p.upn.as_str()).collect();
    presences.extend(
        presence
            .sip
            .iter()
            .filter(|p| !with_teams.contains(p.upn.as_str()))
            .cloned(),
    );
    drop(with_teams);

    let before = live_bytes();
    let index = SearchIndex::build(directory.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let index_bytes = live_bytes() - before;
    drop(index);

    let before = live_bytes();
    let mut model = DirectoryModel::new();
    for (i, page) in directory.chunks(1_000).enumerate() {
        model.apply(
            PanelEvent::DirectoryPage {
                colleagues: page.to_vec(),
                is_first: i == 0,
                is_last: (i + 1) * 1_000 >= directory.len(),
                total: directory.len(),
            },
            now,
        );
    }
    // Built off the UI thread: taken over as the app does, once done.
    while model.poll_background_load() == LoadProgress::Waiting {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let directory_bytes = live_bytes() - before;
    for (i, page) in presences.chunks(1_000).enumerate() {
        model.apply(
            PanelEvent::Snapshot {
                presences: page.to_vec(),
                is_delta: false,
                is_last: (i + 1) * 1_000 >= presences.len(),
            },
            now,
        );
    }
    let mut out = Vec::new();
    model.search("", &mut out);
    let model_bytes = live_bytes() - before;
    assert_eq!(model.len(), COLLEAGUES);
    assert_eq!(out.len(), COLLEAGUES);

    println!(
        "100k colleagues: text {:.1} MiB; index alone {:.1} MiB; model {:.1} MiB \
         (directory and index {:.1} MiB, presence {:.1} MiB)",
        mib(text_bytes),
        mib(index_bytes),
        mib(model_bytes),
        mib(directory_bytes),
        mib(model_bytes - directory_bytes),
    );
    assert!(
        index_bytes <= INDEX_BUDGET_BYTES,
        "the index of 100k takes {:.1} MiB, over its budget of {:.1} MiB",
        mib(index_bytes),
        mib(INDEX_BUDGET_BYTES)
    );
    assert!(
        model_bytes <= MODEL_BUDGET_BYTES,
        "the model of 100k takes {:.1} MiB, over its budget of {:.1} MiB",
        mib(model_bytes),
        mib(MODEL_BUDGET_BYTES)
    );
}
