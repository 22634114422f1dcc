// A web app on ANOTHER origin using the API from Chromium: the page is served by a second local
// server (another port, so another origin), and it calls thumbs-local with fetch. Each call must
// be readable by the page — the browser hides a response without Access-Control-Allow-Origin
// ("Failed to fetch") even when the server did the work:
//   - POST /images (x-api-key and Content-Type make it preflighted), reading the JSON and the
//     exposed Location header;
//   - GET /images/{id} (status JSON);
//   - GET /images/{id}/256.jpg, decoded by the browser, reading the exposed ETag;
//   - POST /uploads, then the presigned PUT straight to the embedded S3, reading its ETag.
//
// Run: scripts/e2e, or `node --test cross-origin.test.mjs` here once thumbs-local is built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startThumbsLocal } from './stack.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PHOTO = readFileSync(join(ROOT, 'crates/thumbs-core/tests/fixtures/coffee.jpg'));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

let stack; // { url, apiKey, stop() }
let app; // the other origin's server
let appUrl;
let browser;
let page;
const requests = [];

before(async () => {
  stack = await startThumbsLocal();
  app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another origin</title><p>a web app that uses thumbs</p>');
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  appUrl = `http://127.0.0.1:${app.address().port}/`;
  assert.notEqual(new URL(appUrl).origin, new URL(stack.url).origin, 'two origins');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(appUrl);
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (app ? app.close(r) : r()));
  await stack?.stop();
});

/** Runs `fn` in the other origin's page; a CORS failure surfaces as the thrown "Failed to fetch". */
const inPage = (fn, arg) => page.evaluate(fn, arg);

test('POST /images, the status and a thumbnail are readable from another origin', async () => {
  const api = stack.url;
  const uploaded = await inPage(async ({ api, key, b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const res = await fetch(api + 'images', {
      method: 'POST',
      headers: { 'Content-Type': 'image/jpeg', 'x-api-key': key },
      body: bytes,
    });
    return { status: res.status, body: await res.json(), location: res.headers.get('Location') };
  }, { api, key: stack.apiKey, b64: PHOTO.toString('base64') });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  const id = uploaded.body.id;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(uploaded.location, `/images/${id}`, 'Location is exposed to the page');

  const status = await inPage(async ({ api, id }) => {
    const res = await fetch(api + 'images/' + id);
    return { status: res.status, body: await res.json() };
  }, { api, id });
  assert.equal(status.status, 200);
  assert.equal(status.body.id, id);
  assert.ok(['processing', 'ready'].includes(status.body.status), status.body.status);

  const thumb = await inPage(async ({ api, id }) => {
    const res = await fetch(api + 'images/' + id + '/256.jpg');
    const blob = await res.blob();
    const bitmap = await createImageBitmap(blob);
    return { status: res.status, type: blob.type, etag: res.headers.get('ETag'), width: bitmap.width, height: bitmap.height };
  }, { api, id });
  assert.equal(thumb.status, 200);
  assert.equal(thumb.type, 'image/jpeg');
  assert.ok(thumb.etag && thumb.etag.startsWith('"'), 'ETag is exposed to the page: ' + thumb.etag);
  // Decoded by the browser; fits 256x256 (never upscaled).
  assert.ok(thumb.width > 0 && Math.max(thumb.width, thumb.height) <= 256, `${thumb.width}x${thumb.height}`);

  // An error answer is readable too (the page can show the server's message).
  const missing = await inPage(async ({ api }) => {
    const res = await fetch(api + 'images/' + 'f'.repeat(32));
    return { status: res.status, body: await res.json() };
  }, { api });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
});

test('POST /uploads and the presigned PUT to the embedded S3 work from another origin', async () => {
  const result = await inPage(async ({ api, key, b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const res = await fetch(api + 'uploads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ content_type: 'image/jpeg', bytes: bytes.length }),
    });
    const presigned = await res.json();
    // Only the headers the URL was signed with; the browser sets Content-Length itself.
    const headers = Object.fromEntries(
      Object.entries(presigned.headers).filter(([name]) => name.toLowerCase() !== 'content-length'));
    const put = await fetch(presigned.url, { method: presigned.method, headers, body: bytes });
    return { status: res.status, id: presigned.id, s3: new URL(presigned.url).origin, putStatus: put.status, etag: put.headers.get('ETag') };
  }, { api: stack.url, key: stack.apiKey, b64: PHOTO.toString('base64') });
  assert.equal(result.status, 200);
  assert.notEqual(result.s3, new URL(appUrl).origin);
  assert.equal(result.putStatus, 200);
  assert.ok(result.etag, 'the PUT answer\'s ETag is exposed to the page');

  // The PUT's S3 event makes the thumbnails; the status URL says so.
  const deadline = Date.now() + 60000;
  let state;
  do {
    state = await inPage(async ({ api, id }) => (await (await fetch(api + 'images/' + id)).json()).status,
      { api: stack.url, id: result.id });
    if (state === 'ready') break;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  assert.equal(state, 'ready');
});

test('no request left 127.0.0.1', () => {
  for (const url of requests) assert.equal(new URL(url).hostname, '127.0.0.1', url);
});
