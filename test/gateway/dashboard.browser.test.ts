/**
 * The dashboard in a real browser (playwright-core driving Debian's /usr/bin/chromium,
 * headless): the page loads and asks for a key, every drive shows up live, a button
 * click reaches the simulated drive, a state change made elsewhere arrives by itself,
 * a dead drive is marked dead, a viewer gets no controls, and the page asks nothing of
 * any other origin. Saves a screenshot under the OS temp directory. Chromium must be
 * installed (.ci/run installs it): without it this test fails rather than skips.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type GatewayRig, KEYS, startGatewayRig } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';

describe('dashboard in Chromium', () => {
  let r: GatewayRig;
  let browser: Browser;
  const foreign: string[] = [];

  beforeAll(async () => {
    r = await startGatewayRig('aedes');
    await r.allOnline();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await r?.close();
  }, 60_000);

  async function openAs(key: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('request', (req) => {
      if (!req.url().startsWith(r.url) && !req.url().startsWith('data:')) foreign.push(req.url());
    });
    await page.goto(`${r.url}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#key', key);
    await page.click('#login-form button[type="submit"]');
    return page;
  }

  const card = (page: Page, id: string) => page.locator(`article.drive[data-drive="${id}"]`);

  it('loads, goes live, a click reaches the drive, updates arrive, a dead drive shows dead', async () => {
    const page = await openAs(KEYS.operator);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    for (const id of ['axis-1', 'axis-2', 'axis-3', 'axis-4', 'dxl-1', 'dxl-2']) {
      await card(page, id)
        .and(page.locator('[data-availability="online"]'))
        .waitFor({ timeout: 15_000 });
    }
    expect(await card(page, 'axis-1').getAttribute('data-dead')).toBe('false');
    expect(await page.locator('section.group-section h2').allTextContents()).toEqual([
      'link bus-a',
      'link bus-b',
    ]);
    expect(await page.locator('#who').textContent()).toContain('operator');
    // Controls follow the drive's birth certificate: the XM430 takes no jog.
    await expect.poll(() => card(page, 'dxl-1').locator('[data-f="jog"]').isVisible()).toBe(false);
    expect(await card(page, 'axis-1').locator('[data-f="jog"]').isVisible()).toBe(true);

    // A click on "enable" reaches the simulated drive…
    await card(page, 'axis-1').locator('button[data-cmd="enable"]').click();
    await eventually(
      () => r.rig.sim.drive('axis-1').state === 'OPERATION_ENABLED',
      'axis-1 enabled in the simulator',
      10_000,
      25,
    );
    // …and the stream brings the new state back to the card.
    await card(page, 'axis-1')
      .and(page.locator('[data-cia402="OPERATION_ENABLED"]'))
      .waitFor({ timeout: 10_000 });
    await expect
      .poll(() => card(page, 'axis-1').locator('[data-f="result"]').textContent(), {
        timeout: 10_000,
      })
      .toBe('enable: completed');

    // A move commanded elsewhere shows up live.
    expect(
      (await r.command('axis-1', { type: 'moveTo', position: 3000, velocity: 40000 })).status,
    ).toBe(200);
    await expect
      .poll(
        async () => {
          const t = (await card(page, 'axis-1').locator('[data-f="position"]').textContent()) ?? '';
          return Math.abs(Number(t.replace(/[^0-9-]/g, '')) - 3000) <= 10;
        },
        { timeout: 10_000 },
      )
      .toBe(true);

    // A dead drive is marked dead.
    r.rig.sim.inject({ drive: 'axis-2', fault: 'no-response' });
    try {
      const dead = card(page, 'axis-2');
      await dead.and(page.locator('[data-dead="true"]')).waitFor({ timeout: 15_000 });
      await expect.poll(() => dead.locator('.dead-banner').isVisible()).toBe(true);
      expect(await dead.locator('.dead-banner').textContent()).toMatch(/^DEAD/);
      expect(await card(page, 'axis-3').getAttribute('data-dead')).toBe('false');
      const shot = join(tmpdir(), 'servofleet-gateway-dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`dashboard screenshot: ${shot}`);
    } finally {
      r.rig.sim.clear({ drive: 'axis-2' });
    }
    await card(page, 'axis-2')
      .and(page.locator('[data-dead="false"]'))
      .waitFor({ timeout: 15_000 });
    await page.close();
  }, 90_000);

  it('a viewer sees the fleet but no controls; a wrong key is refused', async () => {
    const page = await openAs(KEYS.viewer);
    await card(page, 'axis-3').waitFor({ timeout: 15_000 });
    await expect.poll(() => card(page, 'axis-3').locator('.controls').isVisible()).toBe(false);
    await page.close();
    const bad = await openAs('not-a-key');
    await expect
      .poll(() => bad.locator('#login-error').textContent(), { timeout: 10_000 })
      .toContain('not valid');
    await bad.close();
    expect(foreign).toEqual([]);
  }, 60_000);
});
