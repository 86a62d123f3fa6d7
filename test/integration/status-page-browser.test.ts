/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core): a lab host is seen moving
 * through the steps, then in the approval queue. Screenshots are kept in test-artifacts/ as evidence.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { startLabPeers, type LabPeers } from '../../lab/run-lab';
import { createRekick, type Rekick } from '../../src/main';
import { STEP_NAMES } from '../../src/model';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
let peers: LabPeers;
let rekick: Rekick;
let browser: Browser;

beforeAll(async () => {
  expect(existsSync(CHROMIUM), 'Debian chromium is needed (apt-get install chromium; .ci/run installs it)').toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  peers = await startLabPeers({ hosts: 4, fast: true });
  const config = loadConfig(peers.configPath, { env: {} });
  rekick = await createRekick({ config, log: pino({ level: 'silent' }), chat: { irc: false, slack: false } });
  await rekick.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rekick?.stop();
  await peers?.stop();
});

describe('status page', () => {
  it('shows a lab host moving through the steps and then the approval queue', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const url = rekick.http!.url;
    await page.goto(url);
    expect(await page.locator('tr[data-host="buildarm-01"] td').first().textContent()).toBe('buildarm-01');

    await rekick.executor.reinstall({ hosts: ['buildarm-01'], by: { source: 'cli', id: 'test', display: 'test' }, origin: { adapter: 'cli', room: 'test' } });
    const seen = new Set<string>();
    const deadline = Date.now() + 75_000;
    let shot = false;
    while (Date.now() < deadline) {
      await page.goto(url); // the page refreshes itself every few seconds; the test reloads faster
      const step = ((await page.locator('tr[data-host="buildarm-01"] td.step').textContent()) ?? '').trim();
      const name = STEP_NAMES.find((s) => step.startsWith(s)) ?? (step.startsWith('awaiting approval') ? 'awaiting approval' : '');
      if (name) seen.add(name);
      if (name && name !== 'disable' && !shot) {
        await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-in-progress.png'), fullPage: true });
        shot = true;
      }
      if (name === 'awaiting approval') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // When the host never reaches the queue, say what became of its job (a failed job leaves the step column empty).
    const job = rekick.store.listJobs({ host: 'buildarm-01' })[0];
    const what = job ? `job ${job.id} ${job.state}${job.error ? ` at ${job.error.step}: ${job.error.message}` : ''}; steps: ${job.steps.map((s) => `${s.name}=${s.status}${s.attempts > 1 ? `×${s.attempts}` : ""}`).join(' ')}` : 'no job';
    expect(seen.has('awaiting approval'), `seen ${[...seen].join(', ')}; ${what}`).toBe(true);
    expect([...seen].filter((s) => STEP_NAMES.includes(s as never)).length).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#queue').textContent()).toContain('!approve buildarm-01');
    expect(await page.locator('tr[data-host="buildarm-01"] td:nth-child(4)').textContent()).toContain('disabled');
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-awaiting-approval.png'), fullPage: true });
    expect(existsSync(path.join(ARTIFACTS, 'status-page-awaiting-approval.png'))).toBe(true);
  }, 100_000);
});
