//! Real headless Chromium, driven over WebDriver (plain JSON to chromedriver): the
//! user's path from the mail's link to the new password. Chromium and chromedriver
//! (Debian packages chromium, chromium-driver) must be installed: without them the test
//! fails, or with AUTHD_TEST_ALLOW_SKIP=1 is skipped visibly (tests/support/peers.rs).
//! With AUTHD_REGENERATE=1 the screenshots are written to docs/screenshots/.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::spawned::Spawned;
use crate::web::{free_port, repo_root};

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

/// One browser session.
struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

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

impl<'a> Session<'a> {
    fn new(driver: &'a Driver) -> Session<'a> {
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

    fn post(&self, path: &str, body: Value) -> Value {
        call("POST", &self.at(path), Some(body))
    }

    fn get(&self, path: &str) -> Value {
        call("GET", &self.at(path), None)
    }

    /// The element `css` selects (waiting up to the implicit timeout).
    fn find(&self, css: &str) -> String {
        let v = self.post("element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.post(&format!("element/{el}/value"), json!({"text": text}));
    }

    fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.get(&format!("element/{el}/text"))
            .as_str()
            .unwrap()
            .to_string()
    }

    fn script(&self, code: &str) -> Value {
        self.post("execute/sync", json!({"script": code, "args": []}))
    }

    /// A PNG of the window, saved under `name` (docs/screenshots with AUTHD_REGENERATE=1).
    fn screenshot(&self, name: &str) -> Vec<u8> {
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

/// Click the mail's `link` on a page of another origin (as in a webmail), type
/// `password` twice, submit, see the success message.
pub fn reset_in_chromium(driver: &Driver, link: &str, password: &str, base: &str) {
    let s = Session::new(driver);
    let mail = format!("data:text/html,<p>Your reset mail: <a id=link href=\"{link}\">{link}</a>");
    s.post("url", json!({"url": mail}));
    let anchor = s.find("#link");
    s.post(&format!("element/{anchor}/click"), json!({}));
    s.find("#reset-form");
    let url = s.get("url");
    assert_eq!(url, format!("{base}/reset"), "the token left the URL");
    // Everything the page loaded came from its own origin.
    let loaded = s.script("return performance.getEntriesByType('resource').map(e => e.name)");
    let loaded = loaded.as_array().unwrap();
    assert!(!loaded.is_empty(), "the stylesheet is loaded");
    for name in loaded {
        assert!(
            name.as_str().unwrap().starts_with(base),
            "{name} is from elsewhere"
        );
    }

    // Usable at 320 px: nothing wider than the window.
    s.post("window/rect", json!({"width": 320, "height": 720}));
    let fits = s.script("return document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(fits, true, "the page scrolls sideways at 320 px");
    s.post("window/rect", json!({"width": 640, "height": 720}));

    s.type_into("#reset-form input[name=password]", password);
    s.type_into("#reset-form input[name=password2]", password);
    s.screenshot("reset.png");
    let button = s.find("#reset-form button[type=submit]");
    s.post(&format!("element/{button}/click"), json!({}));
    s.find("main > h1");
    let source = s.get("source");
    let page = source.as_str().unwrap();
    assert!(
        page.contains(r#"role="status""#),
        "no success message:\n{page}"
    );
    let status = s.text("[role=status]");
    assert!(status.contains("was changed"), "{status}");
    s.screenshot("reset-done.png");
}
