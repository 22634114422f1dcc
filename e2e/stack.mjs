// The local stack for the e2e tests: starts thumbs-local (THUMBS_LOCAL_BIN, else
// target/release, else target/debug) on free ports with a fresh data folder, from an empty
// folder, and reads its URL and API key from its --ready-file (JSON written once it serves).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * Starts thumbs-local on free ports with a fresh data folder, from an empty folder (it needs no
 * checkout: the template is compiled in); resolves once its --ready-file exists.
 * `extraArgs`: e.g. --no-page-key (the page then asks for the key, as on AWS).
 */
export function startThumbsLocal(extraArgs = []) {
  const bin = thumbsLocalBinary();
  const work = mkdtempSync(join(tmpdir(), 'thumbs-e2e-'));
  const dataDir = join(work, 'data');
  const readyFile = join(work, 'ready.json');
  const child = spawn(bin, ['--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--ready-file', readyFile, ...extraArgs], {
    cwd: work,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave it running, whatever happens to this process.
  process.once('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; if (process.env.THUMBS_E2E_VERBOSE) process.stdout.write(d); });
  child.stderr.on('data', (d) => { err += d; if (process.env.THUMBS_E2E_VERBOSE) process.stderr.write(d); });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    }
    rmSync(work, { recursive: true, force: true });
  };
  return new Promise((resolvePromise, reject) => {
    const fail = (why) => { clearInterval(poll); stop(); reject(new Error(why + '\n--- stdout\n' + out + '\n--- stderr (tail)\n' + err.slice(-4000))); };
    const started = Date.now();
    child.on('exit', (code, signal) => fail(`thumbs-local exited early (${code ?? signal})`));
    // The file is written under a temporary name and renamed: once it exists, it is whole.
    const poll = setInterval(() => {
      if (existsSync(readyFile)) {
        clearInterval(poll);
        child.removeAllListeners('exit');
        const ready = JSON.parse(readFileSync(readyFile, 'utf8'));
        resolvePromise({
          url: ready.api_url + '/', apiKey: ready.api_key_required ? ready.api_key : '', ready, stop, log: () => out + err,
        });
      } else if (Date.now() - started > 60000) {
        fail('thumbs-local wrote no ready file within 60 s');
      }
    }, 50);
  });
}
