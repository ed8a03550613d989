// Loads the reference UI (/docs/) in Chromium under the server's Content-Security-Policy and
// prints what happened as JSON: the rendered title, the number of operations, and every CSP
// violation or page error. Run by crates/server/tests/api/standards.rs with the server's URL.
import { chromium } from "playwright-core";

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage();
const problems = [];
page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
await page.addInitScript(() => {
  document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
});
await page.goto(`${url}/docs/`);
await page.waitForSelector(".swagger-ui .info .title", { timeout: 20000 });
// Open one operation, so more of the UI renders.
await page.locator(".opblock-summary").first().click();
await page.waitForSelector(".opblock-body", { timeout: 10000 });
const title = await page.textContent(".swagger-ui .info .title");
const operations = await page.locator(".opblock").count();
console.log(JSON.stringify({ title, operations, problems }));
await browser.close();
