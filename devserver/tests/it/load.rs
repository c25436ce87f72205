//! Load: 16 concurrent clients read the agent and its versions and create persona versions
//! on one agent, for a bounded time and a bounded number of requests. Nothing may fail, and
//! the versions must come out numbered exactly 1..=N (no gap, no duplicate), N being the
//! number of successful creates, each holding the persona its creator sent.
//!
//! Throughput is printed (`cargo test -p lua-devserver --test it load:: -- --nocapture`), never
//! asserted: timing belongs to benchmarks, not tests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{AGENT, KEY, client, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENTS: usize = 16;
/// Upper bound on wall time: the clients stop starting requests after this.
const DURATION: Duration = Duration::from_secs(3);
/// Upper bound on requests per client, so a fast machine does not run away either.
const MAX_REQUESTS_PER_CLIENT: usize = 150;

/// What one client did.
#[derive(Default)]
struct Tally {
    requests: usize,
    /// Version number -> the persona this client sent to create it.
    created: BTreeMap<i64, String>,
    failures: Vec<String>,
}

/// One client: cycles agent read, versions read, version create until time or count runs out.
async fn run_client(url: String, id: usize, deadline: Instant) -> Tally {
    let http = client();
    let mut tally = Tally::default();
    let agent_url = format!("{url}/admin/agents/{AGENT}");
    let list_url = format!("{url}/developer/agents/{AGENT}/persona/versions");
    let create_url = format!("{url}/developer/agents/{AGENT}/persona/version");
    for i in 0..MAX_REQUESTS_PER_CLIENT {
        if Instant::now() >= deadline {
            break;
        }
        tally.requests += 1;
        let (what, sent) = match i % 3 {
            0 => (
                "GET agent",
                http.get(&agent_url).bearer_auth(KEY).send().await,
            ),
            1 => (
                "GET versions",
                http.get(&list_url).bearer_auth(KEY).send().await,
            ),
            _ => {
                let persona = format!("client {id} request {i}");
                let sent = http
                    .post(&create_url)
                    .bearer_auth(KEY)
                    .json(&json!({ "persona": persona }))
                    .send()
                    .await;
                match sent {
                    Ok(resp) if resp.status() == StatusCode::CREATED => {
                        match resp.json::<Value>().await {
                            Ok(body) => match body["data"]["version"].as_i64() {
                                Some(v) => {
                                    if tally.created.insert(v, persona).is_some() {
                                        tally
                                            .failures
                                            .push(format!("client {id}: version {v} twice"));
                                    }
                                }
                                None => tally
                                    .failures
                                    .push(format!("client {id}: create answered {body}")),
                            },
                            Err(e) => tally
                                .failures
                                .push(format!("client {id}: create body: {e}")),
                        }
                    }
                    Ok(resp) => {
                        let status = resp.status();
                        let text = resp.text().await.unwrap_or_default();
                        tally
                            .failures
                            .push(format!("client {id}: create -> {status} {text}"));
                    }
                    Err(e) => tally.failures.push(format!("client {id}: create: {e}")),
                }
                continue;
            }
        };
        match sent {
            Ok(resp) if resp.status() == StatusCode::OK => {
                // Read the body too: a response cut short is a failure as well.
                if let Err(e) = resp.bytes().await {
                    tally
                        .failures
                        .push(format!("client {id}: {what} body: {e}"));
                }
            }
            Ok(resp) => tally
                .failures
                .push(format!("client {id}: {what} -> {}", resp.status())),
            Err(e) => tally.failures.push(format!("client {id}: {what}: {e}")),
        }
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stdout)] // the throughput figure is this test's report
async fn sixteen_clients_read_and_create_versions_without_failures_or_gaps() {
    let s = start().await;
    let started = Instant::now();
    let deadline = started + DURATION;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(run_client(s.url.clone(), id, deadline)))
        .collect();
    let mut requests = 0;
    let mut created: BTreeMap<i64, String> = BTreeMap::new();
    let mut failures = Vec::new();
    for task in tasks {
        let tally = task.await.unwrap();
        requests += tally.requests;
        failures.extend(tally.failures);
        for (version, persona) in tally.created {
            if let Some(other) = created.insert(version, persona.clone()) {
                failures.push(format!(
                    "version {version} handed out twice: {other:?} and {persona:?}"
                ));
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{CLIENTS} clients: {requests} requests ({} creates) in {:.2} s = {:.0} requests/s",
        created.len(),
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );

    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    let n = created.len() as i64;
    assert!(n > 0, "no version was created");
    assert!(
        created.keys().copied().eq(1..=n),
        "versions handed out are not exactly 1..={n}: {:?}",
        created.keys().collect::<Vec<_>>()
    );

    // The server's own list agrees: exactly 1..=N, each with its creator's persona, all
    // published, and exactly one current (the last one pushed).
    let listed = s.versions(AGENT, None).await;
    let numbers: Vec<i64> = listed
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(numbers, (1..=n).collect::<Vec<_>>());
    for v in &listed {
        let number = v["version"].as_i64().unwrap();
        assert_eq!(
            v["persona"].as_str(),
            created.get(&number).map(String::as_str)
        );
        assert_eq!(v["status"], "published", "{v}");
    }
    let current: Vec<i64> = listed
        .iter()
        .filter(|v| v["isCurrent"] == true)
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(current, vec![n], "the last created version is current");
    s.server.shutdown().await;
}
