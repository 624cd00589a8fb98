// Reviews images on the review page in headless Chromium, with the keyboard only, as a reviewer does.
//
//   node tests/browser/review.mjs <page url> <screenshot.png> <key>...
//
// The page url carries batch, reviewer and dataset (the page loads the batch by itself). Each key is pressed on the
// page: a decision key (1-5, n) waits until the current image shows its decision and the next one is current; j/k and
// the arrows wait until the current image moved; "o" focuses the "another class" list, and the ArrowDown or ArrowUp
// after it chooses there (the list decides on change), so it waits like a decision. Prints one JSON line: the
// decisions the page showed, in order, and its progress line. Exits non-zero with one line on any failure, a page
// error included. CHROMIUM names the browser (default /usr/bin/chromium).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [url, screenshot, ...keys] = process.argv.slice(2);
if (!url || !screenshot || keys.length === 0) {
  console.error("usage: node tests/browser/review.mjs <page url> <screenshot.png> <key>...");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: install Debian's chromium package (scripts/test.sh does) or set CHROMIUM`);
  process.exit(3);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
let chromium;
try {
  ({ chromium } = createRequire(resolve(root, "package.json"))("playwright-core"));
} catch (e) {
  console.error(`playwright-core is not installed under ${root}/node_modules: run npm ci (${e.message})`);
  process.exit(3);
}

const timeout = 10_000;
// Chromium refuses its sandbox as root (CI runs as root); the page is our own and served from 127.0.0.1.
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"], timeout: 30_000 });
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(timeout);
  page.on("pageerror", e => problems.push(`page error: ${e.message}`));
  // A failed request shows as a console error too; the response says which (the browser's own favicon request is no call of the page).
  page.on("console", m => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console error: ${m.text()}`); });
  page.on("response", r => { if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`); });

  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector(".item.current");
  await page.waitForFunction(() => [...document.querySelectorAll(".item img")].every(img => img.complete && img.naturalWidth > 0));

  const current = () => page.$eval(".item.current", el => Number(el.dataset.index));
  const decisions = [];
  let decidingAt = null;
  for (const key of keys) {
    const before = await current();
    if (key === "o") decidingAt = before;
    await page.keyboard.press(key);
    let at = null;
    if (/^[1-5n]$/.test(key)) at = before;
    else if ((key === "ArrowDown" || key === "ArrowUp") && decidingAt !== null) { at = decidingAt; decidingAt = null; }
    if (at !== null) {
      // The decided card is rebuilt with its outcome, and the next image becomes current.
      await page.waitForSelector(`.item.decided[data-index="${at}"]`);
      decisions.push(await page.$eval(`.item[data-index="${at}"]`, el => ({
        path: el.querySelector(".path").textContent,
        status: el.querySelector(".info > .meta:last-child").textContent,
      })));
    } else if (["j", "k", "ArrowDown", "ArrowUp"].includes(key)) {
      await page.waitForFunction(b => Number(document.querySelector(".item.current")?.dataset.index) !== b, before);
    }
    if (problems.length) break;
  }
  await page.mouse.move(0, 0);
  const progress = await page.$eval("#progress", el => el.textContent);
  await page.screenshot({ path: screenshot });
  if (problems.length) throw new Error(problems.join("; "));
  console.log(JSON.stringify({ decisions, progress }));
} catch (e) {
  console.error(`review page: ${e.message.split("\n")[0]}${problems.length ? ` (${problems.join("; ")})` : ""}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
