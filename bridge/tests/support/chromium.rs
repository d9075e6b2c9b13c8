//! Real headless Chromium (Debian `chromium`) driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: commands on fd 3, answers on fd 4, NUL-separated JSON), with page
//! scripts disabled: every step is what a user without JavaScript does (mouse clicks at an element's
//! box, typed text). Included with `#[path = "support/chromium.rs"] mod chromium;`.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

pub fn chromium_path() -> PathBuf {
    std::env::var_os("STAGESUB_CHROMIUM").map_or_else(
        || {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
                .expect("chromium not found: run scripts/setup-tools.sh (Debian package chromium)")
        },
        PathBuf::from,
    )
}

/// Where screenshots go: `<target>/test-output/console/` (or `$STAGESUB_TEST_OUTPUT/console`).
pub fn output_dir() -> PathBuf {
    let dir = std::env::var_os("STAGESUB_TEST_OUTPUT").map_or_else(
        || {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .unwrap()
                .join("test-output")
        },
        PathBuf::from,
    );
    let dir = dir.join("console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Browser {
    child: Child,
    to_browser: File,
    from_browser: Receiver<Value>,
    next_id: u64,
    session: String,
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

impl Browser {
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (cmd_read, cmd_write) = pipe();
        let (resp_read, resp_write) = pipe();
        let mut command = Command::new(chromium_path());
        command
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (dup2) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(cmd_read, 3) < 0 || libc::dup2(resp_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        // SAFETY: the descriptors are ours; the child has its copies.
        unsafe {
            libc::close(cmd_read);
            libc::close(resp_write);
        }
        let to_browser = unsafe { File::from_raw_fd(cmd_write) };
        let mut reader = unsafe { File::from_raw_fd(resp_read) };
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&message[..end])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            to_browser,
            from_browser: rx,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call_browser("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.call_browser(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        // No page script runs: the console must work without JavaScript.
        browser.call(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        );
        browser
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(v) if v["id"].as_u64() == Some(id) => {
                    if let Some(e) = v.get("error") {
                        panic!("{method}: {e}");
                    }
                    return v["result"].clone();
                }
                Ok(v) => self.events.push(v),
                Err(RecvTimeoutError::Timeout) => panic!("{method}: no answer from chromium"),
                Err(RecvTimeoutError::Disconnected) => panic!("{method}: chromium went away"),
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn wait_for_load(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(i) = self
                .events
                .iter()
                .position(|e| e["method"] == "Page.loadEventFired")
            {
                self.events.drain(..=i);
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(v) => self.events.push(v),
                Err(_) => panic!("the page did not load"),
            }
        }
    }

    pub fn goto(&mut self, url: &str) {
        self.events.clear();
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for_load();
    }

    fn root(&mut self) -> i64 {
        self.call("DOM.getDocument", json!({ "depth": 0 }))["root"]["nodeId"]
            .as_i64()
            .unwrap()
    }

    /// The first element matching `selector`, if any.
    pub fn find(&mut self, selector: &str) -> Option<i64> {
        let root = self.root();
        let id = self.call(
            "DOM.querySelector",
            json!({ "nodeId": root, "selector": selector }),
        )["nodeId"]
            .as_i64()
            .unwrap();
        (id != 0).then_some(id)
    }

    fn must(&mut self, selector: &str) -> i64 {
        self.find(selector)
            .unwrap_or_else(|| panic!("no element {selector} in:\n{}", self.html()))
    }

    pub fn count(&mut self, selector: &str) -> usize {
        let root = self.root();
        self.call(
            "DOM.querySelectorAll",
            json!({ "nodeId": root, "selector": selector }),
        )["nodeIds"]
            .as_array()
            .unwrap()
            .len()
    }

    /// The page's HTML as the browser parsed it.
    pub fn html(&mut self) -> String {
        let root = self.root();
        self.call("DOM.getOuterHTML", json!({ "nodeId": root }))["outerHTML"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The text of the element matching `selector` (its text nodes, concatenated).
    pub fn text(&mut self, selector: &str) -> String {
        let id = self.must(selector);
        let node = self.call("DOM.describeNode", json!({ "nodeId": id, "depth": -1 }));
        fn collect(node: &Value, out: &mut String) {
            if node["nodeType"] == 3 {
                out.push_str(node["nodeValue"].as_str().unwrap_or(""));
            }
            for child in node["children"].as_array().into_iter().flatten() {
                collect(child, out);
            }
        }
        let mut out = String::new();
        collect(&node["node"], &mut out);
        out
    }

    fn click_at(&mut self, selector: &str) {
        let id = self.must(selector);
        self.call("DOM.scrollIntoViewIfNeeded", json!({ "nodeId": id }));
        // The first line box of the element (a link may wrap onto two lines).
        let quads = self.call("DOM.getContentQuads", json!({ "nodeId": id }))["quads"].clone();
        let q: Vec<f64> = quads[0]
            .as_array()
            .unwrap_or_else(|| panic!("{selector} is not visible"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let (x, y) = ((q[0] + q[4]) / 2.0, (q[1] + q[5]) / 2.0);
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Clicks the element and waits for the page it leads to.
    pub fn click(&mut self, selector: &str) {
        self.events.clear();
        self.click_at(selector);
        self.wait_for_load();
    }

    /// Types `text` into the input (after clearing it).
    pub fn type_into(&mut self, selector: &str, text: &str) {
        let id = self.must(selector);
        self.call(
            "DOM.setAttributeValue",
            json!({ "nodeId": id, "name": "value", "value": "" }),
        );
        self.call("DOM.focus", json!({ "nodeId": id }));
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Chooses the option with `value` in the select.
    pub fn select(&mut self, select: &str, value: &str) {
        let option = format!("{select} option[value=\"{value}\"]");
        let id = self.must(&option);
        self.call(
            "DOM.setAttributeValue",
            json!({ "nodeId": id, "name": "selected", "value": "selected" }),
        );
    }

    /// Removes the element (e.g. a form's hidden CSRF field).
    pub fn remove(&mut self, selector: &str) {
        let id = self.must(selector);
        self.call("DOM.removeNode", json!({ "nodeId": id }));
    }

    /// The current URL.
    pub fn url(&mut self) -> String {
        let history = self.call("Page.getNavigationHistory", json!({}));
        let i = history["currentIndex"].as_u64().unwrap() as usize;
        history["entries"][i]["url"].as_str().unwrap().to_owned()
    }

    /// Writes a PNG of the page to the test output folder; returns its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = output_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
