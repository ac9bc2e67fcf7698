// Drives the dashboard's moderator queue in Debian's Chromium: counts per reason, a filter by reason, one-tap accepts and the keyboard (a, r, j, k).
// Usage: node moderator.mjs URL SCREENSHOT.png   (tests/live.rs serves its moderation show and runs this)
import { drive, step } from "./harness.mjs";

const [url, screenshot] = process.argv.slice(2);
const moderator = new URLSearchParams(new URL(url).hash.slice(1)).get("moderator");

await drive(url, screenshot, async (page, requests) => {
  // The server's own answer, read with the moderator's token from inside the page.
  const api = (path) => page.evaluate(async ([path, t]) => {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + t } });
    return r.json();
  }, [path, moderator]);
  const until = (what, f, arg) => page.waitForFunction(f, arg, { timeout: 15000 })
    .catch((e) => { throw new Error(`${what}: ${e.message}`); });
  async function eventually(what, f) {
    const start = Date.now();
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() - start > 15000) throw new Error("timed out: " + what);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const selected = () => page.evaluate(() => {
    const li = document.querySelector('#queue li.selected');
    return li && { id: li.dataset.id, reason: li.dataset.reason, claim: li.dataset.claim };
  });
  const listed = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="escalation"]')]
    .map((li) => ({ id: li.dataset.id, reason: li.dataset.reason, age: Number(li.querySelector('[data-testid="age"]').dataset.age) })));

  await page.goto(url);
  step("all ten escalations arrive; a chip per reason counts them");
  await until("ten open", () => document.querySelector('[data-testid="reason-count-all"]')?.textContent === "10");
  const expected = { fuzzy_code: 3, ambiguous_variant: 2, fuzzy_keyword: 2, multiple_products: 1, no_product: 1, unclear_claim: 1 };
  const server = (await api("/api/escalations")).reasons;
  for (const [reason, n] of Object.entries(expected)) {
    const shown = await page.getByTestId("reason-count-" + reason).textContent();
    if (shown !== String(n) || server[reason] !== n) throw new Error(`${reason}: chip ${shown}, server ${server[reason]}, expected ${n}`);
  }
  console.log("counts: " + JSON.stringify(server));
  const keys = await page.getByTestId("shortcuts").textContent();
  if (!/a.*accept.*r.*reject.*j.*next.*k.*previous/.test(keys)) throw new Error("shortcuts not shown: " + keys);

  step("oldest first, each with an age that grows with the show clock");
  const first = await listed();
  if (first.length !== 10) throw new Error("listed " + first.length);
  for (let i = 1; i < first.length; i++) {
    if (first[i].age > first[i - 1].age) throw new Error("not oldest first: " + JSON.stringify(first));
  }
  await until("the oldest's age to grow", (a) => Number(document.querySelector('[data-testid="age"]').dataset.age) > a, first[0].age);
  console.log(`oldest: ${first[0].reason}, ${first[0].age} s, then ${await page.getByTestId("age").first().textContent()}`);

  step("the first escalation is selected; j and k move the selection");
  await until("a selection", () => document.querySelector("#queue li.selected") !== null);
  if ((await selected()).id !== first[0].id) throw new Error("the oldest is not selected");
  await page.keyboard.press("j");
  if ((await selected()).id !== first[1].id) throw new Error("j did not move down");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  if ((await selected()).id !== first[1].id) throw new Error("k did not move up");
  await page.keyboard.press("k");
  if ((await selected()).id !== first[0].id) throw new Error("k did not reach the top");

  step("the sku choices: a product's code resolves to its variants, one variant is one tap");
  const choices = await page.evaluate(() => Object.fromEntries(["fuzzy_code", "ambiguous_variant", "fuzzy_keyword", "multiple_products", "unclear_claim"].map((r) => {
    const li = document.querySelector(`[data-testid="escalation"][data-reason="${r}"]`);
    return [r, { oneTap: li.dataset.oneTap === "1", sku: li.querySelector("select").value, options: [...li.querySelectorAll("option")].map((o) => o.value) }];
  })));
  const want = {
    fuzzy_code: { oneTap: true, sku: "B22-ONE", options: ["B22-ONE"] },
    ambiguous_variant: { oneTap: false, sku: "A1-RED", options: ["A1-RED", "A1-BLUE"] },
    fuzzy_keyword: { oneTap: false, sku: "A1-RED", options: ["A1-RED", "A1-BLUE"] },
    multiple_products: { oneTap: false, sku: "A1-RED", options: ["A1-RED", "A1-BLUE", "B22-ONE"] },
    unclear_claim: { oneTap: true, sku: "B22-ONE", options: ["B22-ONE"] },
  };
  if (JSON.stringify(choices) !== JSON.stringify(want)) throw new Error("choices: " + JSON.stringify(choices));

  step("`a` on an escalation with several skus and none chosen opens the choice instead of accepting");
  for (let i = 0; (await selected()).reason !== "ambiguous_variant"; i++) {
    if (i === first.length) throw new Error("j never reached an ambiguous variant");
    await page.keyboard.press("j");
  }
  const several = await selected();
  await page.keyboard.press("a");
  await until("its sku choice focused", (id) => document.activeElement?.tagName === "SELECT" && document.activeElement.closest("li[data-id]")?.dataset.id === id, several.id);
  if (!(await listed()).some((x) => x.id === several.id)) throw new Error("accepted without a choice");
  await page.keyboard.press("Escape");

  step("filter by fuzzy_code: only its three, asked of the server by reason");
  await page.getByTestId("reason-fuzzy_code").click();
  await until("only fuzzy_code listed", () => {
    const lis = [...document.querySelectorAll('[data-testid="escalation"]')];
    return lis.length === 3 && lis.every((li) => li.dataset.reason === "fuzzy_code") && document.querySelector("#queue li.selected");
  });
  await eventually("the filter asked of the server", () => requests.some((r) => r.includes("/api/escalations") && r.includes("reason=fuzzy_code")));
  const chipCount = await page.getByTestId("reason-count-ambiguous_variant").textContent();
  if (chipCount !== "2") throw new Error("a filter hides no reason's count: " + chipCount);

  step("`a` accepts the selected fuzzy code as B22-ONE with one keypress");
  const accepted = await selected();
  if (accepted.reason !== "fuzzy_code") throw new Error("selected " + JSON.stringify(accepted));
  await page.keyboard.press("a");
  await until("the accepted escalation to leave the queue", (id) => ![...document.querySelectorAll('[data-testid="escalation"]')].some((li) => li.dataset.id === id), accepted.id);
  const decided = await eventually("the accepted claim's decision", async () => {
    const c = await api("/api/claims?sku=B22-ONE");
    return c.feed.find((d) => d.claim_id === accepted.claim && d.outcome === "reserved");
  });
  console.log(`accepted ${accepted.id}: ${decided.outcome} ${decided.sku} x${decided.qty}`);
  const open = await api("/api/escalations?reason=fuzzy_code");
  if (open.escalations.some((e) => e.escalation_id === accepted.id) || open.matching !== 2) throw new Error("still open on the server: " + JSON.stringify(open));
  await until("the chip to count 2", () => document.querySelector('[data-testid="reason-count-fuzzy_code"]').textContent === "2");

  step("the next one is selected at once; `r` rejects it");
  const rejected = await selected();
  if (!rejected || rejected.reason !== "fuzzy_code" || rejected.id === accepted.id) throw new Error("selected after accept: " + JSON.stringify(rejected));
  await page.keyboard.press("r");
  await until("the rejected escalation to leave the queue", (id) => ![...document.querySelectorAll('[data-testid="escalation"]')].some((li) => li.dataset.id === id), rejected.id);
  const refused = await eventually("the rejection", async () => {
    const c = await api("/api/claims");
    return c.feed.find((d) => d.claim_id === rejected.claim && d.outcome === "rejected");
  });
  console.log(`rejected ${rejected.id}: ${refused.outcome} (${refused.reason})`);

  step("back to every reason: the rest, oldest first");
  await page.getByTestId("reason-all").click();
  await until("eight listed", () => document.querySelectorAll('[data-testid="escalation"]').length === 8);
  const rest = await listed();
  for (let i = 1; i < rest.length; i++) {
    if (rest[i].age > rest[i - 1].age) throw new Error("not oldest first after the filter: " + JSON.stringify(rest));
  }
  const all = await page.getByTestId("reason-count-all").textContent();
  if (all !== "8") throw new Error("all counts " + all);

  step("`j` to the unclear claim (B22 on screen, one variant), then `a` accepts it in one tap");
  await until("the oldest selected", (id) => document.querySelector("#queue li.selected")?.dataset.id === id, rest[0].id);
  for (let i = 0; (await selected()).reason !== "unclear_claim"; i++) {
    if (i === rest.length) throw new Error("j never reached the unclear claim");
    await page.keyboard.press("j");
  }
  const unclear = await selected();
  const text = await page.locator("#queue li.selected").innerText();
  if (!text.includes("omg I want everything")) throw new Error("the comment is not shown: " + text);
  await page.keyboard.press("a");
  await eventually("the unclear claim's reservation", async () => {
    const c = await api("/api/claims?sku=B22-ONE");
    return c.feed.find((d) => d.claim_id === unclear.claim && d.outcome === "reserved");
  });
  await until("seven listed", () => document.querySelectorAll('[data-testid="escalation"]').length === 7);
}, {
  viewport: { width: 1400, height: 900 },
  explain: async (page) => "queue:\n" + await page.locator("#queue").innerText() + "\nstatus: " + await page.locator("#status").innerText(),
});
