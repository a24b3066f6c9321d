//! Teams (Graph's fake) and SIP SIMPLE (a real Kamailio) together: the
//! `RichPresence.WinningTechnology` rule decides what a subscriber sees, both ways, and
//! a technology with nothing to say lets the other stand in.

use std::time::Duration;

use presence_domain::{Activity, Availability, Technology, WinningTechnology};
use presence_hub::{HubSettings, PresenceHub};
use presence_sources::graph;
use presence_sources::sip::{self, SipConfig};
use serde_json::json;

use crate::fake::{Fake, fast_config, store_credentials};
use crate::kamailio::{Kamailio, KamailioOptions, Phone, pidf};
use crate::support::{eventually, shown};

async fn both_sources(winning: WinningTechnology) {
    let Some(kamailio) = Kamailio::start(KamailioOptions::default()) else {
        return;
    };
    let fake = Fake::start().await;
    fake.add_users(0..2);
    // user0: Away in Teams, on the phone in SIP. user1: Available in Teams, nothing in SIP.
    fake.set_presence(
        0,
        json!({"id": Fake::id(0), "availability": "Away", "activity": "Away"}),
    );
    fake.set_presence(
        1,
        json!({"id": Fake::id(1), "availability": "Available", "activity": "Available"}),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = store_credentials(dir.path(), &fake);
    let hub = PresenceHub::new(HubSettings {
        winning_technology: winning,
        ms_teams_enabled: true,
    });
    let graph_task = graph::spawn(hub.clone(), fast_config(&fake, path)).expect("graph starts");
    let sip_task = sip::spawn(
        hub.clone(),
        SipConfig {
            port: kamailio.port,
            ..SipConfig::new("127.0.0.1", "contoso.com")
        },
    )
    .await
    .expect("sip starts");
    let mut phone = Phone::new(&kamailio).await;
    phone
        .publish(
            "sip:user0@contoso.com",
            "presence",
            &pidf("sip:user0@contoso.com", "open", &["on-the-phone"], None),
        )
        .await;

    let (expected_user0, technology) = match winning {
        WinningTechnology::SipSimple => (
            (Availability::Busy, Activity::InACall),
            Technology::SipSimple,
        ),
        WinningTechnology::MsTeams => ((Availability::Away, Activity::Away), Technology::MsTeams),
    };
    eventually(
        &format!("user0 as {winning:?} says"),
        Duration::from_secs(10),
        || {
            shown(&hub, "user0@contoso.com").is_some_and(|p| {
                (p.availability, p.activity.clone()) == expected_user0 && p.technology == technology
            })
        },
    )
    .await;
    // SIP knows nothing of user1: Teams stands in, whichever wins.
    eventually("user1 from Teams", Duration::from_secs(10), || {
        shown(&hub, "user1@contoso.com").is_some_and(|p| {
            p.availability == Availability::Available && p.technology == Technology::MsTeams
        })
    })
    .await;
    graph_task.abort();
    sip_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_simple_wins_when_the_rule_says_so() {
    both_sources(WinningTechnology::SipSimple).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_wins_when_the_rule_says_so() {
    both_sources(WinningTechnology::MsTeams).await;
}
