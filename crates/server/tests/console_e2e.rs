//! Runs the web console's end-to-end tests (e2e/console.test.mjs) in Debian's Chromium. They
//! need `chromium` and `npm ci --prefix e2e`; `.ci/run` installs both, so in CI they always
//! run. Elsewhere, without them, this test says so and passes (set CI=true to make it fail).

use std::path::Path;
use std::process::Command;

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
    let output = Command::new("node")
        .args(["--test", "console.test.mjs"])
        .current_dir(root.join("e2e"))
        .env("GATEPASS_BIN", env!("CARGO_BIN_EXE_gatepass"))
        .env("SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    println!("{report}\nscreenshots: {}", screenshots.display());
}
