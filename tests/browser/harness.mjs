// What the browser tests share: Debian's Chromium, a page that records its requests and errors, and the ending every run has (nothing fetched from elsewhere, a screenshot, the exit code).
import { chromium } from "playwright-core";

export const step = (s) => console.log("step: " + s);

// Runs `body(page, requests)` on a fresh page; on failure `explain(page)` may say what the page
// showed. Exits 1 when the body throws, the page errs or fetches from another origin.
export async function drive(url, screenshot, body, { viewport, explain } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failed = false;
  const page = await browser.newPage(viewport ? { viewport } : {});
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => { console.error("page error: " + e.message); failed = true; });
  try {
    await body(page, requests);
    const foreign = requests.filter((r) => !r.startsWith(new URL(url).origin));
    if (foreign.length) { console.error("the page fetched from elsewhere: " + foreign.join(", ")); failed = true; }
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log("ok");
  } catch (e) {
    console.error("failed: " + e.message);
    try {
      if (explain) console.error(await explain(page));
      await page.screenshot({ path: screenshot, fullPage: true });
    } catch {}
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
