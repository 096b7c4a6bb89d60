//! A small W3C WebDriver client: a real headless Chromium, driven through ChromeDriver, for the
//! tests that look at pages as a person would (and take screenshots of them).
//!
//! ```ignore
//! let Some(app) = spawn_app(Backend::Sqlite).await else { return };
//! let Some(browser) = Browser::start().await else { return };
//! browser.goto(&app.url("/docs")).await;
//! browser.find("main h1").await.click().await;
//! ```
//!
//! `Browser::start` answers `None` (after saying so) where Chromium or ChromeDriver is not
//! installed, unless `PARTNERD_REQUIRE_BROWSER_CHECK` is set (CI sets it): then it panics.
//! Every other failure panics, naming the page's URL and WebDriver's error. Dropping the
//! `Browser` ends the session, shuts ChromeDriver down, kills whatever is left of the processes
//! it started and deletes the profile directory.

use crate::common::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key under which WebDriver names an element.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long `find` waits for an element to appear.
const FIND_TIMEOUT: Duration = Duration::from_secs(5);

/// The flags Chromium needs as root on a machine with a closed network (rust-svc.md).
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// The environment variable that turns a missing browser from a skip into a failure.
const REQUIRE_ENV: &str = "PARTNERD_REQUIRE_BROWSER_CHECK";

/// A headless Chromium in a fresh profile, driven by its own ChromeDriver.
pub struct Browser {
    session: Arc<Session>,
    // Dropped (stopped) after `Browser::drop` has ended the session.
    driver: Driver,
}

/// One element of the page, as WebDriver knows it (stale once the page changes).
#[derive(Clone)]
pub struct Element {
    session: Arc<Session>,
    id: String,
    css: String,
}

impl std::fmt::Debug for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element({:?}, {})", self.css, self.id)
    }
}

/// The session's address and the client that talks to it.
struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    url: String,
    port: u16,
    id: String,
}

/// A WebDriver error: the HTTP status and the body's `value` (stack trace left out).
#[derive(Debug)]
struct WdError {
    status: u16,
    error: String,
    body: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.body)
    }
}

impl Session {
    /// One command; `Ok(value)` on success.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        command(&self.http, method, &format!("{}{path}", self.url), body).await
    }

    /// One command, panicking with `what`, the page's URL and WebDriver's error when it fails.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>, what: &str) -> Value {
        match self.command(method, path, body).await {
            Ok(v) => v,
            Err(e) => self.fail(what, &e.to_string()).await,
        }
    }

    async fn fail(&self, what: &str, error: &str) -> ! {
        let url = match self.command(reqwest::Method::GET, "/url", None).await {
            Ok(Value::String(u)) => u,
            Ok(other) => other.to_string(),
            Err(e) => format!("(unknown: {e})"),
        };
        panic!("browser: {what} failed at {url}: {error}")
    }

    fn element(self: &Arc<Self>, value: &Value, css: &str) -> Element {
        let id = value[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("browser: not an element for {css}: {value}"));
        Element { session: self.clone(), id: id.to_owned(), css: css.to_owned() }
    }
}

/// Sends one WebDriver command and unwraps W3C's `{"value": ...}`.
async fn command(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, WdError> {
    let mut req = http.request(method.clone(), url);
    // WebDriver wants a JSON body on every POST, `{}` when there is nothing to say.
    if method == reqwest::Method::POST {
        req = req.json(&body.unwrap_or_else(|| json!({})));
    }
    let transport = |e: reqwest::Error| WdError { status: 0, error: "transport".into(), body: e.to_string() };
    let r = req.send().await.map_err(transport)?;
    let status = r.status().as_u16();
    let text = r.text().await.map_err(transport)?;
    let mut parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(parsed["value"].take());
    }
    let value = &mut parsed["value"];
    if let Some(obj) = value.as_object_mut() {
        obj.remove("stacktrace");
    }
    let error = value["error"].as_str().unwrap_or("").to_owned();
    let body = if value.is_null() { text } else { value.to_string() };
    Err(WdError { status, error, body })
}

impl Browser {
    /// True where Chromium and ChromeDriver are installed.
    pub fn available() -> bool {
        chromium_path().is_some() && chromedriver_path().is_some()
    }

    /// A new browser, or `None` where none is installed (see the module's documentation).
    pub async fn start() -> Option<Browser> {
        if !Browser::available() {
            let missing = "Chromium and ChromeDriver are needed (apt-get install chromium chromium-driver)";
            if std::env::var_os(REQUIRE_ENV).is_some() {
                panic!("browser: {missing}, and {REQUIRE_ENV} is set");
            }
            eprintln!("browser: {missing}: skipping this test");
            return None;
        }
        let (chromium, chromedriver) = (chromium_path().unwrap(), chromedriver_path().unwrap());
        let started = Instant::now();
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
        let driver = Driver::start(&chromedriver, &http).await;
        let port = driver.port;
        let profile = driver.dir.join("profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 30_000, "implicit": 0},
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args},
        }}});
        let url = format!("http://127.0.0.1:{port}/session");
        let created = match command(&http, reqwest::Method::POST, &url, Some(capabilities)).await {
            Ok(v) => v,
            Err(e) => panic!("browser: creating a session failed: {e}\n{}", driver.log_tail()),
        };
        let id = created["sessionId"].as_str().unwrap_or_else(|| panic!("browser: no session id in {created}"));
        let session = Arc::new(Session { http, url: format!("{url}/{id}"), port, id: id.to_owned() });
        eprintln!("browser: Chromium ready in {} ms", started.elapsed().as_millis());
        Some(Browser { session, driver })
    }

    /// `target/browser-screenshots/<test_name>/` under the workspace root, created.
    pub fn screenshots_dir(test_name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots").join(test_name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("browser: creating {}: {e}", dir.display()));
        dir.canonicalize().unwrap_or(dir)
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.session.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })), &format!("goto {url}")).await;
    }

    pub async fn current_url(&self) -> String {
        let v = self.session.call(reqwest::Method::GET, "/url", None, "current_url").await;
        v.as_str().unwrap_or_default().to_owned()
    }

    pub async fn title(&self) -> String {
        let v = self.session.call(reqwest::Method::GET, "/title", None, "title").await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Waits (5 s at most) until the URL contains `part`, e.g. after a submit; returns it.
    pub async fn wait_for_url(&self, part: &str) -> String {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let url = self.current_url().await;
            if url.contains(part) {
                return url;
            }
            if Instant::now() >= deadline {
                panic!("browser: the URL never contained {part:?} in {FIND_TIMEOUT:?}: it is {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn back(&self) {
        self.session.call(reqwest::Method::POST, "/back", None, "back").await;
    }

    /// The page's HTML as it now is.
    pub async fn page_source(&self) -> String {
        let v = self.session.call(reqwest::Method::GET, "/source", None, "page_source").await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching `css`, waiting up to 5 s for one to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            match self.locate(css).await {
                Ok(v) => return self.session.element(&v, css),
                Err(e) if e.error == "no such element" && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) if e.error == "no such element" => {
                    self.session.fail(&format!("find({css:?}) for {FIND_TIMEOUT:?}"), &e.to_string()).await
                }
                Err(e) => self.session.fail(&format!("find({css:?})"), &e.to_string()).await,
            }
        }
    }

    /// The first element matching `css` now, or `None`.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        match self.locate(css).await {
            Ok(v) => Some(self.session.element(&v, css)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => self.session.fail(&format!("try_find({css:?})"), &e.to_string()).await,
        }
    }

    /// Every element matching `css` now (no wait), in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let body = json!({"using": "css selector", "value": css});
        let v = self.session.call(reqwest::Method::POST, "/elements", Some(body), &format!("find_all({css:?})")).await;
        v.as_array().map(|a| a.iter().map(|e| self.session.element(e, css)).collect()).unwrap_or_default()
    }

    /// The visible text of the first element matching `css` (waiting for it as `find` does).
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await
    }

    /// Runs `script` (a function body: `return ...`, its arguments in `arguments`) in the page.
    /// An `Element` is passed as `element.reference()`.
    pub async fn execute(&self, script: &str, args: &[Value]) -> Value {
        let body = json!({"script": script, "args": args});
        self.session.call(reqwest::Method::POST, "/execute/sync", Some(body), &format!("execute({script:?})")).await
    }

    /// Saves a PNG of the viewport at `path` (its directory created).
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let v = self.session.call(reqwest::Method::GET, "/screenshot", None, "screenshot").await;
        let png = base64_decode(v.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("browser: the screenshot is not base64: {e}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("browser: creating {}: {e}", dir.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("browser: writing {}: {e}", path.display()));
    }

    /// The cookies the page can see, as WebDriver describes them (`name`, `value`, `path`, ...).
    pub async fn cookies(&self) -> Vec<Value> {
        let v = self.session.call(reqwest::Method::GET, "/cookie", None, "cookies").await;
        v.as_array().cloned().unwrap_or_default()
    }

    pub async fn delete_cookies(&self) {
        self.session.call(reqwest::Method::DELETE, "/cookie", None, "delete_cookies").await;
    }

    /// Sets a cookie for the current page's host (open a page on it first), path `/`.
    pub async fn add_cookie(&self, name: &str, value: &str) {
        let body = json!({"cookie": {"name": name, "value": value, "path": "/"}});
        self.session.call(reqwest::Method::POST, "/cookie", Some(body), &format!("add_cookie({name:?})")).await;
    }

    async fn locate(&self, css: &str) -> Result<Value, WdError> {
        let body = json!({"using": "css selector", "value": css});
        self.session.command(reqwest::Method::POST, "/element", Some(body)).await
    }
}

impl Element {
    async fn call(&self, method: reqwest::Method, action: &str, body: Option<Value>, what: &str) -> Value {
        let path = format!("/element/{}{action}", self.id);
        self.session.call(method, &path, body, &format!("{what} on {:?}", self.css)).await
    }

    /// This element as an argument of `Browser::execute`.
    pub fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    pub async fn click(&self) {
        self.call(reqwest::Method::POST, "/click", None, "click").await;
    }

    /// Types `text` into the element (`"\u{E007}"` is Enter; see `press_enter`).
    pub async fn send_keys(&self, text: &str) {
        self.call(reqwest::Method::POST, "/value", Some(json!({ "text": text })), "send_keys").await;
    }

    pub async fn press_enter(&self) {
        self.send_keys("\u{E007}").await;
    }

    /// Empties an input or textarea.
    pub async fn clear(&self) {
        self.call(reqwest::Method::POST, "/clear", None, "clear").await;
    }

    /// The element's visible text.
    pub async fn text(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/text", None, "text").await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The HTML attribute `name`, `None` when it is absent.
    pub async fn attr(&self, name: &str) -> Option<String> {
        let v = self.call(reqwest::Method::GET, &format!("/attribute/{name}"), None, &format!("attr({name:?})")).await;
        v.as_str().map(str::to_owned)
    }

    /// The DOM property `name` (`value`, `checked`, ...), `null` when it is absent.
    pub async fn property(&self, name: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/property/{name}"), None, &format!("property({name:?})")).await
    }

    /// Submits the form this element is in (or is), as its submit button would: validation and
    /// `submit` handlers run. Clicking the real button is preferred where there is one.
    pub async fn submit_form(&self) {
        let script = "const e = arguments[0]; const f = e.closest('form') || e.form; \
                      if (!f) { throw new Error('not in a form'); } f.requestSubmit();";
        let body = json!({"script": script, "args": [self.reference()]});
        let what = format!("submit_form on {:?}", self.css);
        self.session.call(reqwest::Method::POST, "/execute/sync", Some(body), &what).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Best effort, and blocking (Drop can't await): ChromeDriver closes Chromium. Its
        // processes are noted first, while their command lines can still be read.
        let pids = processes_mentioning(&self.driver.dir);
        self.driver.pids.extend(pids);
        let path = format!("/session/{}", self.session.id);
        let _ = blocking_request(self.session.port, "DELETE", &path, Duration::from_secs(10));
    }
}

/// A ChromeDriver process on a free port, with its own directory for the profile, its log and
/// Chromium's config and crash reports.
struct Driver {
    child: Child,
    port: u16,
    dir: PathBuf,
    /// Processes started for this directory, noted while they ran.
    pids: Vec<String>,
}

impl Driver {
    async fn start(chromedriver: &Path, http: &reqwest::Client) -> Driver {
        let dir = std::env::temp_dir().join(format!("partnerd-browser-{}", partnerd_domain::ids::random_token(12)));
        // A free port can be taken between asking for it and ChromeDriver binding it: retry.
        let mut log = String::new();
        for _ in 0..3 {
            std::fs::create_dir_all(&dir).unwrap();
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let file = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
            let child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env("XDG_CACHE_HOME", dir.join("cache"))
                .stdin(Stdio::null())
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .unwrap_or_else(|e| panic!("browser: starting {}: {e}", chromedriver.display()));
            let mut driver = Driver { child, port, dir: dir.clone(), pids: Vec::new() };
            if driver.wait_ready(http).await {
                return driver;
            }
            // It exited (the port was taken) or never answered: dropping it cleans up.
            driver.stop();
            log = std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default();
        }
        panic!("browser: ChromeDriver did not become ready on three ports; its last log:\n{log}")
    }

    /// Polls `GET /status` until it says ready (true), or the process exits or 10 s pass (false).
    async fn wait_ready(&mut self, http: &reqwest::Client) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = format!("http://127.0.0.1:{}/status", self.port);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if let Ok(v) = command(http, reqwest::Method::GET, &url, None).await
                && v["ready"] == true
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("ChromeDriver's log (last lines):\n{}", lines[lines.len().saturating_sub(30)..].join("\n"))
    }

    /// Shuts ChromeDriver down (it ends its Chromiums), reaps it, kills whatever is left that
    /// was started for this directory (Chromium's helpers, crashpad), and waits (3 s at most)
    /// until init has reaped those: they outlive their parents, so they are its children.
    fn stop(&mut self) {
        let mut pids = std::mem::take(&mut self.pids);
        pids.extend(processes_mentioning(&self.dir));
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = blocking_request(self.port, "GET", "/shutdown", Duration::from_secs(5));
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
        let left = processes_mentioning(&self.dir);
        if !left.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&left).stderr(Stdio::null()).status();
        }
        pids.extend(left);
        let deadline = Instant::now() + Duration::from_secs(3);
        while pids.iter().any(|pid| Path::new(&format!("/proc/{pid}")).exists()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
        // Chromium's last writes may still land just after it exits.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The ids of the processes (other than this one) whose command line mentions `dir`.
fn processes_mentioning(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()) && *name != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(&needle))
        })
        .collect()
}

/// One HTTP/1.1 request to ChromeDriver on loopback without a runtime (for Drop), returning the
/// raw response once its `Content-Length` has arrived (ChromeDriver may keep the connection open).
fn blocking_request(port: u16, method: &str, path: &str, timeout: Duration) -> std::io::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok());
            if length.is_some_and(|l| response.len() >= end + 4 + l) {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&response).into_owned())
}

fn chromium_path() -> Option<PathBuf> {
    executable("/usr/bin/chromium", "chromium")
}

fn chromedriver_path() -> Option<PathBuf> {
    executable("/usr/bin/chromedriver", "chromedriver")
}

/// `preferred` when it exists, else `name` found in `PATH`.
fn executable(preferred: &str, name: &str) -> Option<PathBuf> {
    let preferred = PathBuf::from(preferred);
    if preferred.is_file() {
        return Some(preferred);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Standard base64 (with or without padding; whitespace ignored): reqwest brings no decoder.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return Err(format!("byte {c:#04x} at {i}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits).to_le_bytes()[0]);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[test]
fn base64_decodes_what_it_should() {
    assert_eq!(base64_decode("").unwrap(), b"");
    assert_eq!(base64_decode("Zg==").unwrap(), b"f");
    assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
    assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
    assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
    assert_eq!(base64_decode("iVBORw0K\nGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
    assert_eq!(base64_decode("/+8=").unwrap(), [0xff, 0xef]);
    assert!(base64_decode("Zm9v!").is_err());
}

/// The harness end to end: the server, a real Chromium, a rendered page and a screenshot of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_renders_the_api_docs_page() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let Some(browser) = Browser::start().await else { return };
    let started = Instant::now();
    browser.goto(&app.url("/docs")).await;
    let heading = browser.find("main h1").await;
    assert!(heading.text().await.ends_with("API reference"), "{:?}", heading.text().await);
    assert!(!browser.title().await.is_empty(), "the page has a title");
    assert_eq!(browser.current_url().await, app.url("/docs"));
    assert!(browser.find_all("section.op").await.len() >= 30, "the operations are on the page");
    assert!(browser.try_find("#no-such-thing").await.is_none());
    assert_eq!(browser.find("nav a[href='/openapi.json']").await.attr("href").await.as_deref(), Some("/openapi.json"));
    let width = browser.execute("return window.innerWidth", &[]).await;
    assert_eq!(width, 1280, "the window has the size asked for");
    let png = Browser::screenshots_dir("browser_renders_the_api_docs_page").join("docs.png");
    browser.screenshot(&png).await;
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is a PNG", png.display());
    eprintln!("browser: page, checks and screenshot in {} ms", started.elapsed().as_millis());
}

/// The helpers a dashboard test leans on, on a form made in the page: typing, clearing,
/// clicking, submitting (both ways), history, cookies, scripts with element arguments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_helpers_drive_a_form() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let Some(browser) = Browser::start().await else { return };
    let t = Instant::now();
    let docs = app.url("/docs");
    browser.goto(&docs).await;
    browser.find("main h1").await;
    assert!(browser.page_source().await.contains("API reference"));

    browser.add_cookie("probe", "42").await;
    let cookies = browser.cookies().await;
    assert!(cookies.iter().any(|c| c["name"] == "probe" && c["value"] == "42"), "{cookies:?}");
    browser.delete_cookies().await;
    assert!(browser.cookies().await.is_empty());

    let form = r#"document.body.innerHTML =
        '<form action="/healthz" method="get"><input id="q" name="q" value="old">' +
        '<button id="poke" type="button">Poke</button><button type="submit">Go</button></form><p id="out"></p>';
        document.getElementById('poke').addEventListener('click', () => {
            document.getElementById('out').textContent = 'poked ' + document.getElementById('q').value;
        });"#;
    browser.execute(form, &[]).await;
    let input = browser.find("#q").await;
    assert_eq!(input.attr("name").await.as_deref(), Some("q"));
    assert_eq!(input.attr("data-missing").await, None);
    assert_eq!(input.property("value").await, "old");
    input.clear().await;
    input.send_keys("hello").await;
    assert_eq!(input.property("value").await, "hello");
    assert_eq!(browser.execute("return arguments[0].id", &[input.reference()]).await, "q");
    browser.find("#poke").await.click().await;
    assert_eq!(browser.text("#out").await, "poked hello");

    input.submit_form().await;
    assert_eq!(browser.wait_for_url("q=hello").await, app.url("/healthz?q=hello"));
    browser.back().await;
    assert_eq!(browser.wait_for_url("/docs").await, docs);

    browser.execute(form, &[]).await;
    let input = browser.find("#q").await;
    input.send_keys("!").await;
    input.press_enter().await;
    assert_eq!(browser.wait_for_url("q=old%21").await, app.url("/healthz?q=old%21"));
    eprintln!("browser: the form's steps in {} ms", t.elapsed().as_millis());
}
