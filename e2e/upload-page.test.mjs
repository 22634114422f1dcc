// End-to-end test of the upload page (GET /) against the real local stack.
//
// Starts thumbs-local (THUMBS_LOCAL_BIN, else target/release, else target/debug) on a free port
// with a fresh data folder, drives Debian's Chromium (playwright-core, no downloaded browsers)
// through the page like a user: API key, the file picker with several files at once, drag and
// drop of a > 6 MB photo (which must take the presigned /uploads path), rejected files, a
// filename that is HTML, reload, phone layout, delete. Every thumbnail is checked to have
// really rendered at the size the contract promises, from the negotiated URL, as AVIF or WebP
// (the response's Content-Type for Chromium's own <img> Accept).
//
// Run: scripts/e2e (installs what is missing), or `node --test` here once thumbs-local is built.
// THUMBS_E2E_URL + THUMBS_E2E_API_KEY point it at an already running stack instead.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startThumbsLocal } from './stack.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const FIXTURES = join(ROOT, 'crates/thumbs-core/tests/fixtures');
const ARTIFACTS = join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SIZES = [128, 256, 512]; // template.yaml's default ThumbSizes

// Three real photos through the file picker, in one go. orient-6.jpg is stored 160x240 with
// EXIF "rotate 90 CW": its thumbnails must come out landscape.
const PHOTOS = ['coffee.jpg', 'orient-6.jpg', 'chelsea.png'];
const NOT_AN_IMAGE = { name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n') };
const HTML_NAME = '<img src=x onerror=alert(1)>.txt';
const HTML_FILE = { name: HTML_NAME, mimeType: 'text/plain', buffer: Buffer.from('just some text, not a picture\n') };
const BIG_NAME = 'big-coffee.jpg';
const BIG_W = 6000, BIG_H = 4000;

let stack; // { url, apiKey, stop() }
let browser;
let context; // the desktop browser profile
let page;
const dialogs = [];
const requests = [];
const thumbResponses = []; // { url, status, type, accept } of every negotiated thumbnail answer

// ------------------------------------------------------------------------------ helpers

const fixture = (name) => readFileSync(join(FIXTURES, name));
const exactly = (text) => new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
const cardFor = (name) => page.locator('#gallery li.card').filter({ has: page.locator('.name', { hasText: exactly(name) }) });
const rowFor = (name) => page.locator('#transfers li.transfer').filter({ has: page.locator('.name', { hasText: exactly(name) }) });

/** What the API itself answers for these bytes (so the page is checked against the server's words). */
async function serverAnswer(bytes, headers) {
  const res = await fetch(new URL('images', stack.url), { method: 'POST', body: bytes, headers });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Displayed (EXIF-oriented) size of an image, as Chromium's own decoder sees it. */
async function displayedSize(bytes, type) {
  return page.evaluate(async ({ b64, type }) => {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type });
    const bmp = await createImageBitmap(blob); // imageOrientation "from-image": EXIF applied
    return { width: bmp.width, height: bmp.height };
  }, { b64: bytes.toString('base64'), type });
}

/** The contract: fit inside N x N, keep the aspect ratio, never upscale. */
function expectedThumb(src, n) {
  const scale = Math.min(1, n / Math.max(src.width, src.height));
  return { width: Math.max(1, Math.round(src.width * scale)), height: Math.max(1, Math.round(src.height * scale)) };
}

/** Waits until the card's thumbnail has loaded and checks its pixels match the size in its URL. */
async function assertThumbnailRendered(name, source) {
  const card = cardFor(name);
  await card.waitFor({ timeout: 60000 });
  const img = card.locator('.thumb img');
  // Processing until GET images/{id} says ready; the page polls with back-off.
  await img.waitFor({ timeout: 90000 }).catch(async () => {
    throw new Error(`${name}: no thumbnail after 90 s; card says ${JSON.stringify(await card.textContent())}`);
  });
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 30000 });
  const got = await img.evaluate(async (el) => {
    // With a `w` srcset, el.naturalWidth is density-corrected (descriptor vs. the sizes slot),
    // so the pixel size of the chosen file is read from a plain Image of the same URL
    // (served from the cache): that is the JPEG the user actually sees.
    const probe = new Image();
    probe.src = el.currentSrc;
    await probe.decode();
    return {
      currentSrc: el.currentSrc, naturalWidth: probe.naturalWidth, naturalHeight: probe.naturalHeight,
      shownNaturalWidth: el.naturalWidth, srcset: el.getAttribute('srcset'),
    };
  });
  // The negotiated URL (no extension): Chromium's own <img> Accept picks the format.
  const m = got.currentSrc.match(/\/images\/([0-9a-f]{32})\/(\d+)$/);
  assert.ok(m, `${name}: unexpected thumbnail URL ${got.currentSrc}`);
  assert.ok(got.currentSrc.startsWith(stack.url), `${name}: thumbnail not served from the API base: ${got.currentSrc}`);
  for (const n of SIZES) assert.ok(got.srcset.includes(`/images/${m[1]}/${n} ${n}w`), `${name}: srcset lacks ${n}w: ${got.srcset}`);
  // What arrived for the <img>: AVIF or WebP (Chromium lists both), never the JPEG, with
  // Vary: Accept; the card names the format the page read from the same response.
  const answers = thumbResponses.filter((r) => r.url === got.currentSrc && r.status === 200);
  assert.ok(answers.length > 0, `${name}: no response seen for ${got.currentSrc}`);
  for (const a of answers) {
    assert.match(a.type, /^image\/(avif|webp)$/, `${name}: Chromium (Accept ${a.accept}) got ${a.type}`);
    assert.match(a.accept, /image\/avif/, `${name}: Chromium's <img> Accept lacks image/avif: ${a.accept}`);
    assert.equal(a.vary, 'Accept', `${name}: negotiated answer without Vary: Accept`);
  }
  await page.waitForFunction((li) => !!li.dataset.format, await card.elementHandle(), { timeout: 10000 });
  assert.equal(await card.getAttribute('data-format'), answers[answers.length - 1].type, `${name}: the card names another format`);
  assert.match(await card.locator('.meta').textContent(), /AVIF|WebP/);
  const n = Number(m[2]);
  const want = expectedThumb(source, n);
  // The long side is exact; the short side may round either way.
  const longSide = Math.max(got.naturalWidth, got.naturalHeight);
  assert.equal(longSide, Math.max(want.width, want.height), `${name} @${n}: long side ${longSide}, want ${JSON.stringify(want)}`);
  assert.ok(Math.abs(got.naturalWidth - want.width) <= 1 && Math.abs(got.naturalHeight - want.height) <= 1,
    `${name} @${n}: ${got.naturalWidth}x${got.naturalHeight} px, want ${want.width}x${want.height}`);
  assert.ok(got.shownNaturalWidth > 0, `${name}: the displayed <img> did not decode`);
  return { id: m[1], size: n, ...got };
}

// ------------------------------------------------------------------------------ set-up

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (process.env.THUMBS_E2E_URL) {
    const url = process.env.THUMBS_E2E_URL.endsWith('/') ? process.env.THUMBS_E2E_URL : process.env.THUMBS_E2E_URL + '/';
    stack = { url, apiKey: process.env.THUMBS_E2E_API_KEY || '', stop: async () => {}, log: () => '' };
  } else {
    // The story types the key, as a visitor of the deployed page does.
    stack = await startThumbsLocal(['--no-page-key']);
  }
  // chromium.launch gives Chromium a fresh temporary --user-data-dir of its own every run (and
  // refuses one in args): no stale localStorage, no cache.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on('response', async (r) => {
    if (/\/images\/[0-9a-f]{32}\/\d+$/.test(r.url())) {
      thumbResponses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] || '',
        vary: r.headers()['vary'] || '', accept: (await r.request().allHeaders()).accept || '' });
    }
  });
  page.on('pageerror', (e) => dialogs.push('pageerror: ' + e.message));
});

after(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
});

// ------------------------------------------------------------------------------ the story

test('the page loads at / with everything inline', async () => {
  const res = await page.goto(stack.url);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'] || '', /text\/html/);
  await page.locator('#drop').waitFor();
  assert.equal(await page.title(), 'thumbs');
  assert.equal(await page.locator('#gallery-empty').isVisible(), true);
  // No CDN, no external anything: only the page itself was requested.
  assert.deepEqual(requests.map((r) => r.url), [stack.url]);
});

test('without the API key an upload is refused with the server\'s message', async (t) => {
  if (!stack.apiKey) return t.skip('this stack requires no API key');
  const answer = await serverAnswer(fixture('coffee.jpg'), { 'content-type': 'image/jpeg' });
  assert.ok(answer.status === 403 || answer.status === 401, `stack does not require a key: ${answer.status}`);
  await page.locator('#file-input').setInputFiles({ name: 'no-key.jpg', mimeType: 'image/jpeg', buffer: fixture('coffee.jpg') });
  const row = rowFor('no-key.jpg');
  await row.locator('.status .message').waitFor({ timeout: 15000 });
  const text = await row.locator('.status').textContent();
  const serverMessage = answer.body?.error?.message ?? answer.body?.message;
  assert.ok(serverMessage && text.includes(serverMessage), `row says ${JSON.stringify(text)}, server said ${JSON.stringify(serverMessage)}`);
  assert.match(text, /API key/);
  assert.match(text, /HTTP 40[13]/);
  await row.locator('button[aria-label="Dismiss"]').click();
  assert.equal(await rowFor('no-key.jpg').count(), 0);
});

test('the API key is remembered in localStorage', async () => {
  await page.locator('#api-key').fill(stack.apiKey);
  await page.reload();
  assert.equal(await page.locator('#api-key').inputValue(), stack.apiKey);
});

test('several files at once: photos become thumbnails, bad files get clear messages, HTML names stay text', async () => {
  // Record each progress bar's highest value (rows of finished uploads go away after a while).
  await page.evaluate(() => {
    window.__progress = {};
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#transfers li')) {
        const name = li.querySelector('.name').textContent;
        const v = Number(li.querySelector('[role=progressbar]').getAttribute('aria-valuenow'));
        window.__progress[name] = Math.max(window.__progress[name] || 0, v);
      }
    }).observe(document.getElementById('transfers'), { subtree: true, attributes: true, childList: true });
  });
  const before = requests.length;
  await page.locator('#file-input').setInputFiles([
    ...PHOTOS.map((name) => ({ name, mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg', buffer: fixture(name) })),
    NOT_AN_IMAGE,
    HTML_FILE,
  ]);

  // The rejected ones: the server's own message, shown as plain text, next to the plain name.
  for (const file of [NOT_AN_IMAGE, HTML_FILE]) {
    const answer = await serverAnswer(file.buffer, { 'content-type': 'application/octet-stream', 'x-api-key': stack.apiKey });
    assert.equal(answer.status, 415, `${file.name}: server answered ${answer.status}`);
    const row = rowFor(file.name);
    await row.locator('.status .message').waitFor({ timeout: 30000 });
    assert.equal(await row.locator('.name').textContent(), file.name);
    assert.equal(await row.locator('.status .message').textContent(), answer.body.error.message);
    assert.match(await row.locator('.status .code').textContent(), /HTTP 415/);
    assert.equal(await row.evaluate((li) => li.classList.contains('failed')), true);
  }
  // The HTML in the name created no element and ran nothing.
  const injected = await page.evaluate(() => [...document.images].filter((i) => !/\/images\/[0-9a-f]{32}\/\d+$/.test(i.getAttribute('src') || '')).length);
  assert.equal(injected, 0, 'an <img> that is not a thumbnail appeared');
  assert.equal(await page.locator('#transfers img, #transfers [onerror]').count(), 0);

  // The photos: each card's <img> really decoded, at the size its URL promises.
  for (const name of PHOTOS) {
    const bytes = fixture(name);
    const source = await displayedSize(bytes, name.endsWith('.png') ? 'image/png' : 'image/jpeg');
    if (name === 'orient-6.jpg') assert.ok(source.width > source.height, 'EXIF orientation should make orient-6 landscape');
    const shown = await assertThumbnailRendered(name, source);
    // Each format of that size, by its own URL, decodes in Chromium's decoders at the same
    // pixel size: the AVIF (made on first request, our own container around rav1e's AV1) too.
    for (const ext of ['jpg', 'webp', 'avif']) {
      const res = await fetch(`${stack.url}images/${shown.id}/${shown.size}.${ext}`);
      assert.equal(res.status, 200, `${name} .${ext}: status ${res.status}`);
      const type = res.headers.get('content-type');
      assert.equal(type, { jpg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif' }[ext]);
      const dims = await displayedSize(Buffer.from(await res.arrayBuffer()), type);
      assert.deepEqual(dims, { width: shown.naturalWidth, height: shown.naturalHeight }, `${name} .${ext} decoded size`);
    }
  }
  // Small files went straight to POST images, raw, never through uploads.
  const mine = requests.slice(before);
  assert.equal(mine.filter((r) => r.method === 'POST' && r.url === stack.url + 'images').length, PHOTOS.length + 2);
  assert.equal(mine.filter((r) => r.url === stack.url + 'uploads').length, 0);
  const progress = await page.evaluate(() => window.__progress);
  for (const name of PHOTOS) assert.equal(progress[name], 100, `${name}: progress bar never reached 100% (${progress[name]})`);
});

test('a > 6 MB photo dropped on the page goes through uploads and a presigned PUT', async () => {
  const before = requests.length;
  // A real JPEG past Lambda's payload limit: a fixture photo upscaled by Chromium with a film
  // grain, so the encoder cannot squeeze it under 6 MB. Dropped as a user would (DataTransfer).
  const made = await page.evaluate(async ({ b64, w, h, name }) => {
    const src = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(src, 0, 0, w, h);
    const grain = new OffscreenCanvas(512, 512);
    const g = grain.getContext('2d');
    const noise = g.createImageData(512, 512);
    let seed = 42;
    for (let i = 0; i < noise.data.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const v = seed >>> 24;
      noise.data[i] = noise.data[i + 1] = noise.data[i + 2] = v;
      noise.data[i + 3] = 40;
    }
    g.putImageData(noise, 0, 0);
    ctx.fillStyle = ctx.createPattern(grain, 'repeat');
    ctx.fillRect(0, 0, w, h);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
    const file = new File([blob], name, { type: 'image/jpeg' });
    const dt = new DataTransfer();
    dt.items.add(file);
    const target = document.getElementById('drop');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
    return { bytes: blob.size };
  }, { b64: fixture('coffee.jpg').toString('base64'), w: BIG_W, h: BIG_H, name: BIG_NAME });
  assert.ok(made.bytes > 6_000_000, `generated photo is only ${made.bytes} bytes`);

  await assertThumbnailRendered(BIG_NAME, { width: BIG_W, height: BIG_H });
  const mine = requests.slice(before);
  assert.equal(mine.filter((r) => r.method === 'POST' && r.url === stack.url + 'images').length, 0, 'big file was POSTed to images');
  assert.equal(mine.filter((r) => r.method === 'POST' && r.url === stack.url + 'uploads').length, 1);
  const put = mine.find((r) => r.method === 'PUT');
  assert.ok(put, 'no presigned PUT');
  assert.ok(!put.url.startsWith(stack.url), `PUT went to the API, not storage: ${put.url}`);
  assert.equal((await page.evaluate(() => window.__progress))[BIG_NAME], 100);
  const meta = await cardFor(BIG_NAME).locator('.meta').textContent();
  assert.match(meta, new RegExp(`${BIG_W}×${BIG_H}`), `card meta: ${meta}`);
});

test('desktop screenshot', async () => {
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(ARTIFACTS, 'desktop.png'), fullPage: true });
});

test('on a phone in dark mode with the same browser storage: the gallery comes back, sharper thumbnails chosen', async () => {
  const desktop = page;
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark',
    storageState: await context.storageState(), // localStorage: the API key and the gallery
  });
  try {
    page = await phone.newPage();
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on('response', async (r) => {
    if (/\/images\/[0-9a-f]{32}\/\d+$/.test(r.url())) {
      thumbResponses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] || '',
        vary: r.headers()['vary'] || '', accept: (await r.request().allHeaders()).accept || '' });
    }
  });
    await page.goto(stack.url);
    assert.equal(await page.locator('#api-key').inputValue(), stack.apiKey);
    const names = await page.locator('#gallery li.card .name').allTextContents();
    assert.deepEqual(new Set(names), new Set([...PHOTOS, BIG_NAME]));
    // Two columns of ~180 CSS px at 2x: the 512 px thumbnail is the one that fits.
    const shot = await assertThumbnailRendered('coffee.jpg', await displayedSize(fixture('coffee.jpg'), 'image/jpeg'));
    assert.equal(shot.size, 512);
    await assertThumbnailRendered(BIG_NAME, { width: BIG_W, height: BIG_H });
    for (const name of PHOTOS.slice(1)) await cardFor(name).locator('.thumb img').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
  } finally {
    await phone.close();
    page = desktop;
  }
});

test('delete removes the image from the gallery and from the server', async () => {
  const card = cardFor('chelsea.png');
  const id = await card.getAttribute('data-id');
  await card.getByRole('button', { name: 'Delete' }).click();
  await card.getByRole('button', { name: 'Really delete?' }).click();
  await card.waitFor({ state: 'detached', timeout: 15000 });
  assert.equal((await fetch(new URL(`images/${id}`, stack.url))).status, 404);
  assert.equal((await fetch(new URL(`images/${id}/256.jpg`, stack.url))).status, 404);
  const stored = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.endsWith(':gallery')).map(([, v]) => v).join());
  assert.ok(!stored.includes(id), 'deleted image still remembered');
});

test('under an API Gateway stage prefix (/Prod and /Prod/) every URL stays inside the stage', async () => {
  for (const path of ['Prod', 'Prod/']) {
    const res = await page.goto(stack.url + path);
    assert.equal(res.status(), 200, `GET /${path}`);
    assert.equal(await page.locator('#api-base').textContent(), stack.url + 'Prod/');
  }
  // The key and the gallery are kept per stage: this one starts empty.
  assert.equal(await page.locator('#api-key').inputValue(), '');
  assert.equal(await page.locator('#gallery li.card').count(), 0);
  await page.locator('#api-key').fill(stack.apiKey);
  const before = requests.length;
  await page.locator('#file-input').setInputFiles({ name: 'rocket.jpg', mimeType: 'image/jpeg', buffer: fixture('rocket.jpg') });
  const shot = await assertThumbnailRendered('rocket.jpg', await displayedSize(fixture('rocket.jpg'), 'image/jpeg'));
  assert.ok(shot.currentSrc.startsWith(stack.url + 'Prod/images/'), shot.currentSrc);
  const api = requests.slice(before).filter((r) => r.url.startsWith(stack.url));
  assert.ok(api.length > 0 && api.every((r) => r.url.startsWith(stack.url + 'Prod/')), JSON.stringify(api));
});

test('thumbs-local fills the key into the page it serves to this machine: uploads work without typing it', async () => {
  const local = await startThumbsLocal(); // default: the page gets the key on loopback
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    assert.ok(local.apiKey, 'the template requires a key for writes');
    const p = await fresh.newPage();
    p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    p.on('pageerror', (e) => dialogs.push('pageerror: ' + e.message));
    await p.goto(local.url);
    assert.equal(await p.locator('#api-key').inputValue(), local.apiKey);
    await p.locator('#file-input').setInputFiles({ name: 'coffee.jpg', mimeType: 'image/jpeg', buffer: fixture('coffee.jpg') });
    const card = p.locator('#gallery li.card').filter({ has: p.locator('.name', { hasText: exactly('coffee.jpg') }) });
    await card.locator('.thumb img').waitFor({ timeout: 60000 });
    // A Host that is not this machine's name (another site rebinding its DNS to 127.0.0.1) gets no key.
    const port = new URL(local.url).port;
    const html = await new Promise((resolvePromise, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host: `example.com:${port}` } }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolvePromise(body));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(html, /id="api-key"/);
    assert.ok(!html.includes(local.apiKey), 'the key was served to a foreign Host');
  } finally {
    await fresh.close();
    await local.stop();
  }
});

test('nothing ran that should not have', () => {
  assert.deepEqual(dialogs, []);
  const foreign = requests.filter((r) => !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(r.url) && !r.url.startsWith('data:'));
  assert.deepEqual(foreign, [], 'requests left the machine');
});
