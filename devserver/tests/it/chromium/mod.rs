//! A headless Chromium driven over the Chrome DevTools Protocol (CDP), for the dashboard's
//! real-browser test: launch, one page, real mouse clicks and key presses, screenshots, and
//! every console message, exception and log entry the page produces (CSP violations are log
//! entries), so a test can assert there are none.
//!
//! Blocking on purpose: the test drives the browser from its own thread while the devserver
//! runs on a tokio runtime. Every wait has a deadline ([`TIMEOUT`]) and waits on a protocol
//! event or answer, never on a fixed sleep. Chromium runs in its own process group, killed
//! when the [`Browser`] is dropped (also when the test panics).
//!
//! It knows nothing about the devserver: selectors and URLs come from the test.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long any single wait may take (launch, an answer, a page load) on a busy 2-core box.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The viewport the screenshots show.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 1000;

/// Chromium's path: `LUA_CHROMIUM` if set (missing if it names no file), else
/// `/usr/bin/chromium` (Debian's package), else `chromium` on the PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("LUA_CHROMIUM") {
        let given = PathBuf::from(given);
        return given.is_file().then_some(given);
    }
    let debian = Path::new("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Chromium, or `None` after a loud skip notice. Where a browser is required (`CI` set, or
/// `LUA_REQUIRE_BROWSER=1` as `.ci/run` exports) a missing Chromium fails the test instead.
#[allow(clippy::print_stderr)] // the skip must be visible in the test log
pub fn find_or_skip(test: &str) -> Option<PathBuf> {
    let found = find();
    if found.is_none() {
        let required = std::env::var_os("CI").is_some()
            || std::env::var("LUA_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{test}: Chromium is not installed (no /usr/bin/chromium, no `chromium` on the PATH, \
             or LUA_CHROMIUM names no file) \
             but a real browser is required here (CI or LUA_REQUIRE_BROWSER=1): .ci/run installs \
             Debian's `chromium` package; install it with `apt-get install -y chromium`"
        );
        eprintln!(
            "\n*** SKIPPED {test}: Chromium is not installed (apt-get install -y chromium); \
             the dashboard was NOT tested in a real browser ***\n"
        );
    }
    found
}

/// What the page reported that a clean page never does: console calls, uncaught exceptions,
/// and log entries at warning or error level (CSP violations, failed loads).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: String,
    pub text: String,
}

/// A running Chromium with one page attached.
pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    /// The page's flat CDP session (`Target.attachToTarget` with `flatten`).
    session: String,
    next_id: u64,
    /// Page events read while waiting for something else, oldest first.
    events: VecDeque<Value>,
    problems: Vec<Problem>,
    /// Chromium's last stderr lines, for failure messages.
    stderr: Arc<Mutex<VecDeque<String>>>,
    // Dropped after the process is killed (field order).
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` headless with a fresh profile and opens a blank page.
    pub fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                // The network is closed: without these Chromium keeps dialling out.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--window-size={WIDTH},{HEIGHT}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let tail = Arc::clone(&stderr);
        std::thread::spawn(move || {
            // Keeps draining stderr for the browser's life, so Chromium never blocks on it.
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                let mut tail = tail.lock().unwrap();
                tail.push_back(line);
                if tail.len() > 40 {
                    tail.pop_front();
                }
            }
        });
        // From here on `guard` kills Chromium if anything below panics.
        let guard = ChildGuard(Some(child));
        let url = rx.recv_timeout(TIMEOUT).unwrap_or_else(|_| {
            panic!(
                "Chromium printed no `DevTools listening on ws://...` line within {TIMEOUT:?}; \
                 its stderr:\n{}",
                tail_text(&stderr)
            )
        });
        let ws = connect(&url);
        let child = guard.disarm();
        let mut browser = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            events: VecDeque::new(),
            problems: Vec::new(),
            stderr,
            _profile: profile,
        };
        browser.open_page();
        browser
    }

    /// A fresh page target, attached as a flat session, with the domains that report problems.
    fn open_page(&mut self) {
        let target = self.browser_call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = self.browser_call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        self.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(domain, json!({}));
        }
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
        );
    }

    /// Everything the page reported so far (see [`Problem`]).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// A command to the page; its `result`, or a panic with the protocol's error.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("CDP {method}: cannot send: {e}"));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let mut incoming = self.read(deadline, method);
            if incoming["id"].as_u64() == Some(id) {
                if let Some(error) = incoming.get("error") {
                    panic!("CDP {method} failed: {error}");
                }
                return incoming["result"].take();
            }
            self.observe(incoming);
        }
    }

    /// The next message from Chromium, or a panic naming `waiting_for` after the deadline.
    fn read(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timed out after {TIMEOUT:?} waiting for {waiting_for}; page problems so \
                     far: {:?}; Chromium's stderr:\n{}",
                    self.problems,
                    tail_text(&self.stderr)
                );
            }
            self.ws.get_ref().set_read_timeout(Some(left)).unwrap();
            match self.ws.read() {
                Ok(Message::Text(text)) => return serde_json::from_str(&text).unwrap(),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!(
                    "lost the connection to Chromium waiting for {waiting_for}: {e}; its \
                     stderr:\n{}",
                    tail_text(&self.stderr)
                ),
            }
        }
    }

    /// Records problems from a page event and queues it for [`Browser::wait_event`].
    fn observe(&mut self, event: Value) {
        if event["sessionId"].as_str() != Some(&self.session) {
            return; // browser-level events (targets coming and going)
        }
        let params = &event["params"];
        let problem = match event["method"].as_str().unwrap_or("") {
            "Runtime.consoleAPICalled" => Some(Problem {
                kind: format!("console.{}", params["type"].as_str().unwrap_or("?")),
                text: params["args"].to_string(),
            }),
            "Runtime.exceptionThrown" => Some(Problem {
                kind: "exception".to_owned(),
                text: params["exceptionDetails"].to_string(),
            }),
            "Log.entryAdded" => {
                let entry = &params["entry"];
                let level = entry["level"].as_str().unwrap_or("?");
                matches!(level, "error" | "warning").then(|| Problem {
                    kind: format!("log.{}.{level}", entry["source"].as_str().unwrap_or("?")),
                    text: format!(
                        "{} ({})",
                        entry["text"].as_str().unwrap_or(""),
                        entry["url"].as_str().unwrap_or("")
                    ),
                })
            }
            _ => None,
        };
        self.problems.extend(problem);
        self.events.push_back(event);
    }

    /// Waits for the next page event `method`, skipping (and forgetting) earlier ones.
    fn wait_event(&mut self, method: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(event) = self.events.pop_front() {
                if event["method"] == method {
                    return event;
                }
            }
            let incoming = self.read(deadline, method);
            self.observe(incoming);
        }
    }

    /// Forgets queued events, so the next wait sees only what happens after this point.
    fn forget_events(&mut self) {
        self.events.clear();
    }

    /// Runs `action`, then waits until the page it leads to has loaded.
    fn navigating(&mut self, action: impl FnOnce(&mut Self)) {
        self.forget_events();
        action(self);
        self.wait_event("Page.loadEventFired");
    }

    /// Opens `url` and waits for its load event.
    pub fn goto(&mut self, url: &str) {
        self.navigating(|b| {
            let result = b.call("Page.navigate", json!({ "url": url }));
            if let Some(error) = result.get("errorText") {
                panic!("cannot open {url}: {error}");
            }
        });
    }

    /// Evaluates `expression` in the page; its value (JSON), or a panic if it threw.
    pub fn eval(&mut self, expression: &str) -> Value {
        let mut result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        if let Some(details) = result.get("exceptionDetails") {
            panic!("{expression} threw: {details}");
        }
        result["result"]["value"].take()
    }

    /// The page's path (`location.pathname`).
    pub fn path(&mut self) -> String {
        self.eval("location.pathname").as_str().unwrap().to_owned()
    }

    /// The trimmed text of the first element matching `selector`; panics if there is none.
    pub fn text(&mut self, selector: &str) -> String {
        let sel = json!(selector);
        let text = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); return e && e.textContent.trim(); }})()"
        ));
        match text {
            Value::String(s) => s,
            _ => panic!(
                "no element {selector} on {}: {}",
                self.path(),
                self.body_text()
            ),
        }
    }

    /// Whether an element matches `selector`.
    pub fn has(&mut self, selector: &str) -> bool {
        let sel = json!(selector);
        self.eval(&format!("document.querySelector({sel}) !== null")) == json!(true)
    }

    /// The `value` of a form field.
    pub fn value(&mut self, selector: &str) -> String {
        self.center(selector); // panics with a clear message when absent
        let sel = json!(selector);
        let value = self.eval(&format!("document.querySelector({sel}).value"));
        value.as_str().unwrap().to_owned()
    }

    fn body_text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Scrolls the element into view; its centre in viewport coordinates.
    fn center(&mut self, selector: &str) -> (f64, f64) {
        let sel = json!(selector);
        let point = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{ block: 'center' }}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        match point.as_array().map(|p| (p[0].as_f64(), p[1].as_f64())) {
            Some((Some(x), Some(y))) => (x, y),
            _ => panic!(
                "no element {selector} to click on {}: {}",
                self.path(),
                self.body_text()
            ),
        }
    }

    /// A left mouse click in the middle of the element, as a user's.
    pub fn click(&mut self, selector: &str) {
        let (x, y) = self.center(selector);
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Clicks the element and waits for the page the click leads to (a form submit, a link).
    pub fn click_and_wait(&mut self, selector: &str) {
        self.navigating(|b| b.click(selector));
    }

    /// Types `text` where the focus is (as an input method would: one insertion).
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Ctrl+A in the focused field.
    pub fn select_all(&mut self) {
        for kind in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({
                    "type": kind, "key": "a", "code": "KeyA", "windowsVirtualKeyCode": 65,
                    "modifiers": 2, "commands": ["selectAll"],
                }),
            );
        }
    }

    /// Presses Enter in the focused field and waits for the page it submits to.
    pub fn press_enter_and_wait(&mut self) {
        self.navigating(|b| {
            for kind in ["keyDown", "keyUp"] {
                b.call(
                    "Input.dispatchKeyEvent",
                    json!({
                        "type": kind, "key": "Enter", "code": "Enter",
                        "windowsVirtualKeyCode": 13, "text": "\r",
                    }),
                );
            }
        });
    }

    /// Saves a PNG of the viewport to `path` (creating its folder); returns its size in bytes.
    pub fn screenshot(&mut self, path: &Path) -> usize {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        png.len()
    }

    /// Waits until some page event has produced a problem beyond the first `known` ones.
    pub fn wait_problem(&mut self, known: usize) {
        let deadline = Instant::now() + TIMEOUT;
        while self.problems.len() <= known {
            let incoming = self.read(deadline, "a console or log entry");
            self.observe(incoming);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Kills Chromium if launching fails half-way.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn disarm(mut self) -> Child {
        self.0.take().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            kill_group(child);
        }
    }
}

/// SIGKILL to Chromium's process group (its renderer and helper processes too), then reaps it.
fn kill_group(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    let _ = child.kill();
    let _ = child.wait();
}

fn connect(url: &str) -> WebSocket<TcpStream> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected DevTools URL {url:?}"));
    let stream = TcpStream::connect(authority).unwrap_or_else(|e| panic!("{url}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let (ws, _) = tungstenite::client(url, stream)
        .unwrap_or_else(|e| panic!("websocket handshake with {url}: {e}"));
    ws
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap();
    tail.iter().cloned().collect::<Vec<_>>().join("\n")
}
