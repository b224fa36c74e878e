// Two browsers chat through a real cluster; the backend restarts mid-conversation and, with no reload,
// both keep chatting and see every message once, in order.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { Cluster } from "./cluster.mjs";

const artifacts = new URL("../test-results/", import.meta.url).pathname;
let cluster;
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  cluster = await Cluster.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  cluster?.stop();
});

async function openChat(name, room, viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // The first backend may still be joining: the page stays up and registers once a backend answers.
  await page.goto(cluster.url);
  await page.getByTestId("name-input").fill(name);
  await page.getByTestId("register-button").click();
  await page.getByTestId("room-input").waitFor({ timeout: 60_000 });
  await page.getByTestId("room-input").fill(room);
  await page.getByTestId("join-button").click();
  await page.getByTestId("members").getByText(name).waitFor();
  return page;
}

async function say(page, text) {
  await page.getByTestId("message-input").fill(text);
  await page.getByTestId("message-input").press("Enter");
}

async function messages(page) {
  return page.getByTestId("message").evaluateAll((items) =>
    items.map((item) => ({ seq: Number(item.dataset.seq), text: item.querySelector(".text").textContent })));
}

async function waitForText(page, text, timeout = 45_000) {
  await page.getByTestId("messages").getByText(text, { exact: true }).waitFor({ timeout });
}

test("two browsers keep chatting through a backend restart, without a reload", async () => {
  const alice = await openChat("alice", "lobby", { width: 1280, height: 800 });
  const bob = await openChat("bob", "lobby", { width: 390, height: 780 });
  await alice.getByTestId("members").getByText("bob").waitFor();

  const expected = [];
  async function exchange(round) {
    for (const [page, who] of [[alice, "alice"], [bob, "bob"]]) {
      const text = `${who} says ${round}`;
      expected.push(text);
      await say(page, text);
    }
  }

  await exchange("hello");
  await exchange("before the restart");
  for (const page of [alice, bob]) await waitForText(page, "bob says before the restart");

  // SIGTERM the backend; both keep typing while it is away; then a new backend starts.
  const stopping = cluster.backend.terminate();
  await exchange("during the restart");
  await stopping;
  await cluster.startBackend();
  await exchange("after the restart");

  for (const page of [alice, bob]) {
    // Held messages of different senders come back in whichever order their sessions resume: wait for all.
    for (const text of expected) await waitForText(page, text);
    assert.equal(await page.getByTestId("status").getAttribute("data-status"), "connected");
    const shown = await messages(page);
    const seqs = shown.map((m) => m.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), "seq in order, no gap, no repeat");
    assert.deepEqual(shown.map((m) => m.text).filter((t) => expected.includes(t)).sort(), [...expected].sort(), "every message once");
    for (const who of ["alice", "bob"]) {
      const own = shown.map((m) => m.text).filter((t) => t.startsWith(who));
      assert.deepEqual(own, expected.filter((t) => t.startsWith(who)), `${who}'s messages in the order sent`);
    }
  }
  await alice.screenshot({ path: `${artifacts}chat-desktop.png` });
  await bob.screenshot({ path: `${artifacts}chat-phone.png` });
});
