//! Real headless Chromium, driven over WebDriver: plain JSON to chromedriver (ureq and
//! serde_json, no WebDriver crate). Chromium and chromedriver (Debian packages chromium,
//! chromium-driver) must be installed: without them a test fails, or with
//! `AUTHD_TEST_ALLOW_SKIP=1` is skipped visibly (tests/support/peers.rs). Screenshots
//! are written to docs/screenshots/ only with `AUTHD_REGENERATE=1`.
//!
//! Shared by the browser tests (`#[path]`-included, beside the `peers`, `spawned` and
//! `web` support modules at the crate root).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::spawned::Spawned;
use crate::web::{free_port, repo_root};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver; killed when dropped.
pub struct Driver {
    _child: Spawned,
    url: String,
}

impl Driver {
    /// Start chromedriver, or `None` when it (or chromium) is missing and skips are allowed.
    pub fn start() -> Option<Driver> {
        if !crate::peers::program("chromium", "chromium")
            || !crate::peers::program("chromedriver", "chromium-driver")
        {
            return None;
        }
        let port = free_port();
        let child = Spawned::spawn(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = ureq::get(&format!("{url}/status"))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Driver { _child: child, url })
    }
}

/// One WebDriver command: its `value`, or the test fails with the driver's answer.
fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let req = ureq::request(method, url);
    let result = match body {
        Some(body) => req.send_json(body),
        None => req.call(),
    };
    match result {
        Ok(r) => r.into_json::<Value>().unwrap()["value"].clone(),
        Err(ureq::Error::Status(code, r)) => {
            panic!(
                "WebDriver {method} {url}: {code} {}",
                r.into_string().unwrap()
            )
        }
        Err(e) => panic!("WebDriver {method} {url}: {e}"),
    }
}

/// One browser session (a fresh profile: no cookies); ended when dropped.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl<'a> Session<'a> {
    /// A headless window of 640 × 720 px; finding an element waits up to 10 s.
    pub fn new(driver: &'a Driver) -> Session<'a> {
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=640,720"]
        }}}});
        let v = call("POST", &format!("{}/session", driver.url), Some(caps));
        let id = v["sessionId"].as_str().unwrap().to_string();
        let s = Session { driver, id };
        s.post("timeouts", json!({"implicit": 10_000}));
        s
    }

    fn at(&self, path: &str) -> String {
        format!("{}/session/{}/{path}", self.driver.url, self.id)
    }

    /// A raw command: POST `body` to the session's `path`.
    pub fn post(&self, path: &str, body: Value) -> Value {
        call("POST", &self.at(path), Some(body))
    }

    /// A raw query: GET the session's `path`.
    pub fn get(&self, path: &str) -> Value {
        call("GET", &self.at(path), None)
    }

    /// Load `url`.
    pub fn open(&self, url: &str) {
        self.post("url", json!({"url": url}));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.get("url").as_str().unwrap().to_string()
    }

    /// The element `css` selects (waiting up to the implicit timeout).
    pub fn find(&self, css: &str) -> String {
        let v = self.post("element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    /// Click the element `css` selects.
    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.post(&format!("element/{el}/click"), json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.post(&format!("element/{el}/value"), json!({"text": text}));
    }

    /// The rendered text of the element `css` selects.
    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.get(&format!("element/{el}/text"))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The attribute `name` of the element `css` selects (empty when absent).
    pub fn attribute(&self, css: &str, name: &str) -> String {
        let el = self.find(css);
        self.get(&format!("element/{el}/attribute/{name}"))
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The page's HTML as the browser has it.
    pub fn source(&self) -> String {
        self.get("source").as_str().unwrap().to_string()
    }

    /// Run `code` (a function body) in the page: what it returns.
    pub fn script(&self, code: &str) -> Value {
        self.post("execute/sync", json!({"script": code, "args": []}))
    }

    /// Scroll so that the element `css` selects is at the top of the window.
    pub fn scroll_to(&self, css: &str) {
        self.find(css);
        self.script(&format!("document.querySelector('{css}').scrollIntoView()"));
    }

    /// Resize the window.
    pub fn resize(&self, width: u32, height: u32) {
        self.post("window/rect", json!({"width": width, "height": height}));
    }

    /// Every resource the page loaded came from `base` (its own origin); there was at
    /// least one (the stylesheet).
    pub fn assert_same_origin(&self, base: &str) {
        let loaded =
            self.script("return performance.getEntriesByType('resource').map(e => e.name)");
        let loaded = loaded.as_array().unwrap();
        assert!(!loaded.is_empty(), "the stylesheet is loaded");
        for name in loaded {
            assert!(
                name.as_str().unwrap().starts_with(&format!("{base}/")),
                "{name} is from elsewhere"
            );
        }
    }

    /// A virtual security key (chromedriver's WebAuthn extension): CTAP2 over USB, no
    /// resident keys, always present and consenting; `uv` says whether it can verify
    /// its user. Its id, for `remove_authenticator`.
    pub fn add_authenticator(&self, uv: bool) -> String {
        let v = self.post(
            "webauthn/authenticator",
            json!({"protocol": "ctap2", "transport": "usb", "hasResidentKey": false,
                   "hasUserVerification": uv, "isUserVerified": uv,
                   "isUserConsenting": true}),
        );
        v.as_str().unwrap().to_string()
    }

    /// Unplug the virtual security key `id`.
    pub fn remove_authenticator(&self, id: &str) {
        call(
            "DELETE",
            &self.at(&format!("webauthn/authenticator/{id}")),
            None,
        );
    }

    /// Usable at 320 px: nothing wider than the window (then back to 640 × 720).
    pub fn assert_fits_320(&self) {
        self.resize(320, 720);
        let fits = self.script("return document.documentElement.scrollWidth <= window.innerWidth");
        assert_eq!(fits, true, "the page scrolls sideways at 320 px");
        self.resize(640, 720);
    }

    /// A PNG of the window, saved under `name` (docs/screenshots with AUTHD_REGENERATE=1).
    pub fn screenshot(&self, name: &str) -> Vec<u8> {
        let b64 = self.get("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        if std::env::var("AUTHD_REGENERATE").as_deref() == Ok("1") {
            let dir: PathBuf = repo_root().join("docs/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), &png).unwrap();
        }
        png
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.driver.url, self.id)).call();
    }
}
