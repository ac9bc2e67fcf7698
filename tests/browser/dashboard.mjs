// Drives the live dashboard in Debian's Chromium: activate a product, see claims arrive, resolve an escalation, watch the ticker change, load a catalog, end the show.
// Usage: node dashboard.mjs URL SCREENSHOT.png   (tests/live.rs starts `livesell serve` and runs this)
import { drive, step } from "./harness.mjs";

const [url, screenshot] = process.argv.slice(2);

await drive(url, screenshot, async (page) => {
  await page.goto(url);
  step("the run sheet lists the show's products");
  await page.getByTestId("activate-A1").waitFor({ timeout: 15000 });

  step("activate A1 with one click; the overlay shows it");
  await page.getByTestId("activate-A1").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="overlay"]').textContent.includes("A1"), null, { timeout: 15000 });
  const overlay = await page.getByTestId("overlay").textContent();
  console.log("overlay: " + overlay.trim());

  step("claims arrive in the feed after the activation");
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="feed-item"]')]
    .some((li) => li.textContent.includes("reserved") && li.textContent.includes("A1-")), null, { timeout: 15000 });

  step("an escalation is waiting; accept it");
  await page.getByTestId("escalation").first().waitFor({ timeout: 15000 });
  const before = await page.getByTestId("escalation").count();
  const id = await page.getByTestId("escalation").first().getAttribute("data-id");
  const heldBefore = Number(await page.getByTestId("held").textContent());
  // Accept exactly the escalation read above, wherever the queue has it by now.
  await page.locator(`[data-testid="escalation"][data-id="${id}"]`).getByTestId("accept").click();
  try {
    await page.waitForFunction((id) => ![...document.querySelectorAll('[data-testid="escalation"]')].some((li) => li.dataset.id === id), id, { timeout: 15000 });
  } catch (e) {
    const queue = await page.locator("#queue").innerText();
    const status = await page.locator("#status").innerText().catch(() => "?");
    throw new Error(`${e.message}\n${id} still open; status: ${status}; queue:\n${queue}`);
  }
  console.log(`escalation ${id} resolved (${before} were open, held was ${heldBefore})`);

  step("the ticker's GMV changes while we watch");
  const gmv1 = await page.getByTestId("gmv").textContent();
  await page.waitForFunction((g) => document.querySelector('[data-testid="gmv"]').textContent !== g, gmv1, { timeout: 15000 });
  const gmv2 = await page.getByTestId("gmv").textContent();
  console.log(`gmv: ${gmv1} -> ${gmv2}`);

  step("load a Shopify product export into the run sheet; its products appear with codes of their own");
  const csv = "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,Variant Price\n" +
    "tote,Canvas Tote,Color,Sand,TOTE-SAND,5,19.00\ntote,,,Olive,TOTE-OLIVE,4,19.00\n";
  await page.getByTestId("catalog").setInputFiles({ name: "products.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.waitForFunction(() => document.querySelector('[data-testid="runsheet"]').textContent.includes("Canvas Tote"), null, { timeout: 15000 });
  console.log("catalog: " + (await page.locator("#status").innerText().catch(() => "?")));

  step("end the show: it asks first; the overlay then says it ended and the button is off");
  let asked = "";
  page.once("dialog", async (d) => { asked = d.message(); await d.accept(); });
  await page.getByTestId("end-show").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="overlay-message"]').textContent.includes("Show ended"), null, { timeout: 15000 });
  if (!asked.includes("End the show")) throw new Error(`no confirmation asked (got ${JSON.stringify(asked)})`);
  if (!(await page.getByTestId("end-show").isDisabled())) throw new Error("End show is still enabled after the end");
  console.log("ended: " + (await page.getByTestId("overlay-message").textContent()));
});
