// The hall board in a real browser: headless Chromium opens it, a call is
// made with hallctl, the call must appear on the board (highlighted as the
// newest) within a deadline, and a screenshot of the board is saved.
//
//   HALLBUS_BIN=build/bin node board_test.cjs OUT_DIR
//
// Starts its own hall (hall-bus, hall-queue, hall-display) on free loopback
// ports in a temporary directory and stops it; exits non-zero on any failure
// (77 when node's playwright-core or Chromium is missing: ctest skips).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { spawn, execFileSync } = require('child_process');

const BIN = process.env.HALLBUS_BIN;
const OUT = process.argv[2] || '.';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error('playwright-core is not installed:', e.message);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(CHROMIUM, 'is missing');
  process.exit(77);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function until(what, cond, ms) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try { if ((last = await cond())) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out (${ms} ms) waiting for ${what}: ${last}`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hallbus-browser-'));
const daemons = [];
function start(name, args) {
  const log = fs.openSync(path.join(dir, name + '.log'), 'a');
  const p = spawn(path.join(BIN, name), args, { stdio: ['ignore', 'ignore', log] });
  p.exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve({ code, sig })));
  daemons.push({ name, p });
  return p;
}
function hallctl(config, ...args) {
  return execFileSync(path.join(BIN, 'hallctl'), ['-c', config, ...args], { encoding: 'utf8' });
}

async function main() {
  const [cmd, pub, sub, http] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const config = path.join(dir, 'hall.yaml');
  fs.writeFileSync(config, `hall:
  id: h01
  name: "滨江社区服务中心"
  name_en: "Binjiang Community Service Centre"
services:
  - {prefix: A, name: "社保业务", name_en: "Social security"}
  - {prefix: B, name: "医保业务", name_en: "Medical insurance"}
  - {prefix: C, name: "户籍业务", name_en: "Household registration"}
  - {prefix: D, name: "不动产登记", name_en: "Real estate", target_minutes: 30}
windows:
  - {number: 1, services: [A, B]}
  - {number: 2, services: [A, B]}
  - {number: 3, services: [B, A]}
  - {number: 4, services: [C]}
  - {number: 5, services: [C, A]}
  - {number: 6, services: [D]}
  - {number: 7, services: [A, B, C, D]}
  - {number: 8, services: [A]}
endpoints:
  command: "tcp://127.0.0.1:${cmd}"
  bus_pub: "tcp://127.0.0.1:${pub}"
  bus_sub: "tcp://127.0.0.1:${sub}"
security:
  keys_dir: "${dir}/keys"
queue:
  db: "${dir}/queue.db"
  heartbeat_ms: 500
display:
  http: "127.0.0.1:${http}"
  recent_calls: 6
`);
  hallctl(config, 'keys', 'init'); // every link speaks CURVE, as in any hall
  start('hall-bus', ['-c', config]);
  start('hall-queue', ['-c', config]);
  start('hall-display', ['-c', config]);
  const base = `http://127.0.0.1:${http}`;
  await until('hall-queue', () => { hallctl(config, 'status'); return true; }, 10000);

  // a hall in the middle of its morning
  const staff = ['李明', '王芳', '张伟', '刘洋', '陈静', '杨帆', '赵磊'];
  for (let w = 1; w <= 7; w++) hallctl(config, 'window', 'open', String(w), '--staff', staff[w - 1]);
  for (let i = 0; i < 9; i++) hallctl(config, 'take', 'A');
  for (let i = 0; i < 5; i++) hallctl(config, 'take', 'B');
  for (let i = 0; i < 4; i++) hallctl(config, 'take', 'C');
  hallctl(config, 'take', 'A', '--green', 'elderly');
  for (let i = 0; i < 2; i++) hallctl(config, 'take', 'D');
  for (const w of [1, 2, 3, 4, 6]) hallctl(config, 'call', String(w));
  hallctl(config, 'start', '1');
  hallctl(config, 'window', 'pause', '5', '--reason', '午休 lunch');

  // a fresh profile (--user-data-dir) each run
  const browser = await chromium.launchPersistentContext(path.join(dir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1920, height: 1080 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // the server's Content-Security-Policy (default-src 'self') refuses
    // inline script and style: the pages must work without them
    const cspViolations = (pg) => pg.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    cspViolations(page);
    await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => !document.body.classList.contains('stale') &&
                               document.querySelectorAll('#windows .win').length === 8, null,
                               { timeout: 10000 });
    const called = hallctl(config, '--json', 'call', '7');
    const reply = JSON.parse(called);
    const number = (reply.ticket || reply).number;
    if (!number) throw new Error("hallctl call printed " + called);
    // the newest call, at the top and highlighted, within a deadline
    await page.waitForSelector(`#calls li.newest[data-number="${number}"]`, { timeout: 5000 });
    const win7 = await page.textContent('#windows .win[data-window="7"] .t');
    if (!win7.includes(number)) throw new Error(`window 7 shows "${win7}", not ${number}`);
    // its announcement, queued for the voice (the view and it may come in either read)
    await page.waitForFunction((n) => {
      const heard = window.hallAnnouncements || [];
      return heard.length > 0 && heard[heard.length - 1].number === n;
    }, number, { timeout: 5000 });
    const paused = await page.textContent('#windows .win[data-window="5"]');
    if (!/暂停/.test(paused)) throw new Error(`window 5 shows "${paused}", not paused`);
    await page.waitForTimeout(3200); // the newest call's flash animation ends (3 × 1 s)
    fs.mkdirSync(OUT, { recursive: true });
    const shot = path.join(OUT, 'board.png');
    await page.screenshot({ path: shot });

    // a window screen
    const wpage = await browser.newPage();
    wpage.on('pageerror', (e) => errors.push(String(e)));
    cspViolations(wpage);
    await wpage.goto(base + '/window/7', { waitUntil: 'domcontentloaded' });
    await wpage.waitForFunction((n) => document.getElementById('serving').textContent === n &&
                                !document.body.classList.contains('stale'), number, { timeout: 5000 });
    await wpage.screenshot({ path: path.join(OUT, 'window.png') });

    // the display goes away: the board says so instead of showing stale data
    const display = daemons.find((d) => d.name === 'hall-display');
    display.p.kill('SIGTERM');
    const st = await display.p.exited;
    if (st.code !== 0) throw new Error(`hall-display exited ${JSON.stringify(st)}`);
    await page.waitForFunction(() => document.body.classList.contains('stale'), null, { timeout: 20000 });
    // and comes back by itself
    start('hall-display', ['-c', config]);
    await page.waitForFunction(() => !document.body.classList.contains('stale'), null, { timeout: 20000 });
    await page.waitForSelector(`#calls li.newest[data-number="${number}"]`, { timeout: 5000 });
    if (errors.length) throw new Error('page errors: ' + errors.join('; '));
    console.log(`ok: ${number} appeared on the board; screenshot ${shot}`);
  } finally {
    await browser.close();
  }
}

async function stopAll() {
  let bad = 0;
  for (const d of daemons.reverse()) {
    if (d.p.exitCode !== null || d.p.signalCode !== null) continue;
    d.p.kill('SIGTERM');
    const st = await d.p.exited;
    if (st.code !== 0) {
      bad++;
      console.error(`${d.name} did not stop cleanly: ${JSON.stringify(st)}`);
      try { console.error(fs.readFileSync(path.join(dir, d.name + '.log'), 'utf8').slice(-3000)); } catch (e) { /* none */ }
    }
  }
  return bad;
}

main().then(async () => {
  const bad = await stopAll();
  if (!process.env.HALLBUS_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(bad ? 1 : 0);
}, async (e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e);
  await stopAll();
  console.error('logs kept in', dir);
  process.exit(1);
});
