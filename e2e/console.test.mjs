// End-to-end tests of the web console in real Chromium (Debian's, driven by playwright-core):
// the whole key life cycle, CSRF, sign-out, and a screenshot of every page.
//
// Run by `cargo test` through crates/server/tests/console_e2e.rs, which passes GATEPASS_BIN
// (the built binary) and SCREENSHOTS (where the screenshots go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const bin = process.env.GATEPASS_BIN;
const shots = process.env.SCREENSHOTS ?? join(tmpdir(), "gatepass-console-screenshots");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const dataDir = mkdtempSync(join(tmpdir(), "gatepass-e2e-"));
// Four-eyes on: creating a service account waits for a second administrator.
const env = {
  ...process.env,
  GATEPASS__DATA_DIR: dataDir,
  GATEPASS__SERVER__BIND: "127.0.0.1:0",
  GATEPASS__ADMIN__FOUR_EYES: "true",
  RUST_LOG: "warn",
};

let server, base, browser, admin, reviewerAdmin;

function cli(...args) {
  // A CLI call that hangs fails the test after a minute instead of holding it.
  return JSON.parse(execFileSync(bin, args, { env, encoding: "utf8", timeout: 60_000 }));
}

async function token(clientId, secret) {
  const response = await fetch(`${base}/oauth2/token`, {
    method: "POST",
    headers: {
      authorization: "Basic " + Buffer.from(`${clientId}:${secret}`).toString("base64"),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials",
  });
  return { status: response.status, body: await response.json() };
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Every visible form control has a label a screen reader can announce. */
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select")]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
      .map((el) => el.name),
  );
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${page.url()}`);
}

before(async () => {
  assert.ok(bin, "GATEPASS_BIN names the gatepass binary");
  mkdirSync(shots, { recursive: true });
  server = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    server.stdout.on("data", (chunk) => {
      const match = /listening on (http:\/\/[0-9.:]+)/.exec(chunk.toString());
      if (match) resolve(match[1]);
    });
    server.on("exit", (code) => reject(new Error(`gatepass exited with ${code}`)));
  });
  admin = cli("bootstrap", "--json", "--name", "console-admin");
  reviewerAdmin = cli("bootstrap", "--json", "--name", "second-admin");
  browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

test("an administrator runs the whole key life cycle in the browser", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("dialog", (dialog) => dialog.accept());

  // Signed out: every page sends you to the sign-in page.
  await page.goto(`${base}/console/keys`);
  assert.match(page.url(), /\/console\/login$/);
  await assertLabelled(page);
  await shot(page, "login");

  // A wrong secret is refused with one message, no hint which part was wrong.
  await page.getByLabel("Client id").fill(admin.client_id);
  await page.getByLabel("Client secret").fill("gps_wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText("Sign-in failed").waitFor();

  await page.getByLabel("Client id").fill(admin.client_id);
  await page.getByLabel("Client secret").fill(admin.client_secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/keys$/);
  const cookie = (await context.cookies()).find((c) => c.name === "gatepass_console");
  assert.ok(cookie.httpOnly && cookie.sameSite === "Strict", "HttpOnly, SameSite=Strict session cookie");
  assert.ok(!cookie.value.includes(admin.client_secret), "no secret in the cookie");

  // Create a key; its secret is shown once.
  await page.getByLabel("Name (empty: a default name)").fill("billing-worker");
  await page.getByLabel("Scopes (space-separated)").fill("sites:read");
  await page.getByLabel("Audiences (space-separated)").fill("https://api.example.com");
  await page.getByLabel("Labels (key=value, comma-separated)").fill("team=billing");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText("you will not see this secret again").waitFor();
  await assertLabelled(page);
  await shot(page, "secret-once");
  const clientId = (await page.locator("#new-client-id").textContent()).trim();
  const first = (await page.locator("#new-secret").textContent()).trim();
  assert.match(first, /^gps_/);

  // The secret gets a token over HTTP.
  let answer = await token(clientId, first);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.scope, "sites:read");

  // The list shows the key; filter by label; the secret is not on the page any more.
  await page.goto(`${base}/console/keys?label=team:billing`);
  await page.getByRole("link", { name: "billing-worker" }).waitFor();
  assert.ok(!(await page.content()).includes(first), "the secret is shown only once");
  const listed = await page.locator("table").textContent();
  assert.ok(listed.includes(first.slice(0, 12)), `the list shows the key prefix: ${listed}`);
  await shot(page, "keys");

  // Rotate with a grace period: both secrets work.
  await page.getByRole("link", { name: "billing-worker" }).click();
  await page.getByLabel("Grace period in seconds (optional, up to 7776000)").fill("3600");
  await page.getByLabel("Label (optional)").fill("2026-q4");
  await page.getByRole("button", { name: "Rotate" }).click();
  await page.getByText("Your new secret").waitFor();
  const second = (await page.locator("#new-secret").textContent()).trim();
  assert.notEqual(second, first);
  assert.equal((await token(clientId, first)).status, 200, "the old secret works during the grace period");
  assert.equal((await token(clientId, second)).status, 200, "the new one too");
  await page.goto(`${base}/console/keys/${clientId}`);
  await assertLabelled(page);
  await shot(page, "key");

  // Revoke the first secret: the token endpoint refuses it within a second (the change feed,
  // read every 250 ms). It was just used (usage
  // is written behind, within a few seconds), so its delete button warns about the last 24 h.
  const firstRow = page.getByRole("row").filter({ hasText: first.slice(0, 12) });
  for (let i = 0; i < 20 && (await firstRow.getByText("used in the last 24 h").count()) === 0; i++) {
    // The server's write-behind runs on its own real timer (another process): poll for it.
    await page.waitForTimeout(500);
    await page.reload();
  }
  await firstRow.getByText("used in the last 24 h").waitFor();
  await firstRow.getByRole("button", { name: "Revoke" }).click();
  await page.getByText("Revoked: every node refuses the secret within a second.").waitFor();
  const revokedAt = Date.now();
  answer = await token(clientId, first);
  while (answer.status === 200 && Date.now() - revokedAt < 1000) {
    await page.waitForTimeout(50); // the server's feed poll runs on its own real timer
    answer = await token(clientId, first);
  }
  assert.equal(answer.status, 401, "refused within a second of the revocation");
  assert.equal(answer.body.error, "invalid_client");
  assert.equal((await token(clientId, second)).status, 200, "the other secret is untouched");

  // The audit log shows each step, by this admin.
  await page.goto(`${base}/console/audit?target=${clientId}`);
  const log = await page.locator("table").textContent();
  for (const action of ["client.created", "secret.created", "secret.revoked"]) {
    assert.ok(log.includes(action), `audit log shows ${action}`);
  }
  assert.ok(log.includes(admin.client_id), "actor is the signed-in admin");
  await page.goto(`${base}/console/audit?action=token.auth_failed`);
  assert.ok((await page.locator("table").textContent()).includes("secret_revoked"), "the refused token request, with its reason");
  await page.goto(`${base}/console/audit`);
  await assertLabelled(page);
  await shot(page, "audit");
  const csv = await page.request.get(`${base}/console/audit.csv`);
  assert.equal(csv.status(), 200);
  assert.match((await csv.text()).split("\n")[0], /occurred_at/);

  // The other pages render for an admin.
  for (const [path, name] of [["service-accounts", "service-accounts"], ["roles", "roles"], ["signing-keys", "signing-keys"]]) {
    await page.goto(`${base}/console/${path}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await assertLabelled(page);
    await shot(page, name);
  }

  // Four-eyes: a new service account waits for a second administrator; the requester can
  // not approve it, the second one can; then it can be disabled.
  await page.goto(`${base}/console/service-accounts`);
  await page.getByLabel("Name (a-z, 0-9, . _ -)").fill("reporting");
  await page.getByLabel("admin (gatepass:admin)").check();
  await page.getByRole("button", { name: "Create service account" }).click();
  await page.getByText("A second administrator must approve this service account").waitFor();
  await page.goto(`${base}/console/approvals`);
  const pending = page.getByRole("row").filter({ hasText: "service_account.create" });
  await pending.getByRole("button", { name: "Approve" }).click();
  await page.getByRole("alert").getByText("a different admin must").waitFor();
  assert.equal(await page.getByRole("row").filter({ hasText: "service_account.create" }).count(), 1, "self-approval refused");
  await shot(page, "approvals");
  const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const reviewer = await other.newPage();
  reviewer.setDefaultTimeout(10_000);
  reviewer.on("dialog", (dialog) => dialog.accept());
  await reviewer.goto(`${base}/console/login`);
  await reviewer.getByLabel("Client id").fill(reviewerAdmin.client_id);
  await reviewer.getByLabel("Client secret").fill(reviewerAdmin.client_secret);
  await reviewer.getByRole("button", { name: "Sign in" }).click();
  await reviewer.waitForURL(/\/console\/keys$/);
  await reviewer.goto(`${base}/console/approvals`);
  await reviewer.getByRole("row").filter({ hasText: "service_account.create" }).getByRole("button", { name: "Approve" }).click();
  await reviewer.getByText("Request approved.").waitFor();
  await other.close();
  await page.goto(`${base}/console/service-accounts`);
  await page.getByRole("row").filter({ hasText: "reporting" }).getByRole("button", { name: "Disable" }).click();
  await page.getByText("The service account is now disabled.").waitFor();

  // A form posted without the CSRF token is refused, even with the session cookie.
  const forged = await page.request.post(`${base}/console/keys`, { form: { name: "forged", scopes: "sites:read" } });
  assert.equal(forged.status(), 403);
  await page.goto(`${base}/console/keys`);
  assert.equal(await page.getByRole("link", { name: "forged" }).count(), 0, "nothing was created");

  // Phone width: the page fits without horizontal scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/console/keys`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scroll at phone width (${overflow}px)`);
  await shot(page, "keys-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Sign out: the session is gone, pages redirect to sign-in.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/console\/login$/);
  await page.goto(`${base}/console/audit`);
  assert.match(page.url(), /\/console\/login$/);
  await context.close();
});
