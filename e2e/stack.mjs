// The local stack for the e2e tests: starts thumbs-local (THUMBS_LOCAL_BIN, else
// target/release, else target/debug) on a free port with a fresh data folder and reads its URL
// and API key from the start-up banner.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function thumbsLocalBinary() {
  const candidates = [
    process.env.THUMBS_LOCAL_BIN,
    join(ROOT, 'target/release/thumbs-local'),
    join(ROOT, 'target/debug/thumbs-local'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('thumbs-local is not built; tried ' + candidates.join(', ') + ' (run scripts/e2e)');
  return found;
}

/** Starts thumbs-local on a free port with a fresh data folder; resolves once it printed its URL and key. */
export function startThumbsLocal() {
  const bin = thumbsLocalBinary();
  const dataDir = mkdtempSync(join(tmpdir(), 'thumbs-e2e-data-'));
  const child = spawn(bin, ['--port', '0', '--data-dir', dataDir], {
    cwd: ROOT, // template.yaml is read from the working directory
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave it running, whatever happens to this process.
  process.once('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '', err = '';
  child.stderr.on('data', (d) => { err += d; if (process.env.THUMBS_E2E_VERBOSE) process.stderr.write(d); });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolvePromise, reject) => {
    const fail = (why) => { stop(); reject(new Error(why + '\n--- stdout\n' + out + '\n--- stderr (tail)\n' + err.slice(-4000))); };
    const timer = setTimeout(() => fail('thumbs-local printed no URL and API key within 60 s'), 60000);
    child.on('exit', (code, signal) => { clearTimeout(timer); fail(`thumbs-local exited early (${code ?? signal})`); });
    child.stdout.on('data', (d) => {
      out += d;
      if (process.env.THUMBS_E2E_VERBOSE) process.stdout.write(d);
      const parsed = parseBanner(out);
      if (parsed) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise({ ...parsed, stop, log: () => out + err });
      }
    });
  });
}

/**
 * thumbs-local's start-up banner on stdout (crates/thumbs-local/src/stack.rs, print_banner):
 *   upload page   http://127.0.0.1:PORT/
 *   API           http://127.0.0.1:PORT  (also under http://127.0.0.1:PORT/Prod/)
 *   embedded S3   http://127.0.0.1:PORT2  bucket ...
 *   API key       KEY  (x-api-key for writes; ...)      <- only when the template requires one
 *   try: ...
 * Returns {url, apiKey} once the banner is complete, else null.
 */
export function parseBanner(text) {
  let url = null, apiKey = null, complete = false;
  for (const line of text.split('\n')) {
    const page = line.match(/upload page\s+(https?:\/\/\S+)/i);
    if (page && !url) url = page[1];
    const key = line.match(/^\s*API key\s+(\S+)/i);
    if (key && !apiKey) apiKey = key[1];
    if (/^\s*try:|Ctrl-C/.test(line)) complete = true;
  }
  if (!url || !(apiKey || complete)) return null;
  return { url: url.endsWith('/') ? url : url + '/', apiKey: apiKey || '' };
}
