//! Runs the web console's end-to-end tests (e2e/console.test.mjs) in Debian's Chromium. They
//! need `chromium` and `npm ci --prefix e2e`; `.ci/run` installs both, so in CI they always
//! run. Elsewhere, without them, this test says so and passes (set CI=true to make it fail).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The whole browser run; past it the run is killed and the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(600);

#[test]
fn the_console_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let ready = Path::new(&chromium).exists() && root.join("e2e/node_modules/playwright-core").exists();
    if !ready {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs chromium and e2e/node_modules: run `bash .ci/run` (it installs both)"
        );
        eprintln!("skipped: install chromium and run `npm ci --prefix e2e` to test the console in a browser");
        return;
    }
    let screenshots = root.join("target/console-screenshots");
    let logs = tempfile::tempdir().expect("a directory for node's output");
    let (out_path, err_path) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut child = Command::new("node")
        .args(["--test", "console.test.mjs"])
        .current_dir(root.join("e2e"))
        .env("GATEPASS_BIN", env!("CARGO_BIN_EXE_gatepass"))
        .env("SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        // Its own process group, so the server and Chromium it starts die with it.
        .process_group(0)
        .spawn()
        .expect("node runs");
    let _group = KillGroupOnDrop(child.id());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("node's status") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            break None;
        }
        // Polling a child process: no clock can stand in for it.
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::process::Output {
        status: status.unwrap_or_else(|| panic!("the browser tests did not finish within {DEADLINE:?}")),
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    };
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    println!("{report}\nscreenshots: {}", screenshots.display());
}

/// Kills a whole process group (node, the server and the browser it started) when the test
/// ends, passed, failed or timed out; a group already gone is no error.
struct KillGroupOnDrop(u32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
    }
}
