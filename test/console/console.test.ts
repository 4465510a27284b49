// The web console (console/) in a real browser: Debian's chromium driven by playwright-core, against a whole engine
// with real Redis, btrfs and sshd hosts (the e2e fixture). Screenshots of the main pages at a laptop and a phone width
// go to docs/console/ (shown in the README) when run with DVX_UPDATE_SCREENSHOTS=1.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from '../e2e/engine-fixture.js';
import { setUpDsource, snapshotsOf } from '../e2e/fixture-setup.js';

const CHROMIUM = '/usr/bin/chromium';
/**
 * Where the screenshots go: docs/console/ (shown in the README) with DVX_UPDATE_SCREENSHOTS=1, else a temp dir, so
 * that a test run does not rewrite tracked files (every run's pictures differ in their ids and times).
 */
const SHOTS = process.env.DVX_UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'console') : undefined;
const WIDTHS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

let engine: EngineFixture;
let browser: Browser;
let dsourceId: string;
let environments: string[];
let operatorToken: string;
let viewerToken: string;
/** Every URL a page of the console asked for: nothing may leave the engine. */
const requested: string[] = [];
const contexts: BrowserContext[] = [];

interface VdbView {
  id: string;
  name: string;
  status: string;
  currentTimeflowId: string | null;
}

async function token(role: 'operator' | 'viewer'): Promise<string> {
  const answer = await engine.client.post<{ secret: string }>('/tokens', { role, name: `console-${role}` });
  return answer.secret;
}

async function openPage(viewport: { width: number; height: number } = WIDTHS.laptop): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(engine.runtime.url);
  return page;
}

async function signIn(page: Page, secret: string): Promise<void> {
  await page.getByLabel('API token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Both widths of the page at `hash`, signed in as the operator. */
async function screenshots(name: string, hash: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
  for (const [label, viewport] of Object.entries(WIDTHS)) {
    const page = await openPage(viewport);
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/${hash}`);
    await ready(page);
    const picture = await page.screenshot({ fullPage: true, path: join(SHOTS ?? engine.dir, `${name}-${label}.png`) });
    expect(picture.length).toBeGreaterThan(0);
    await page.context().close();
  }
}

async function vdbNamed(name: string): Promise<VdbView | undefined> {
  return (await engine.client.get<{ vdbs: VdbView[] }>('/vdbs')).vdbs.find((vdb) => vdb.name === name);
}

beforeAll(async () => {
  // The console as `npm run build` builds it, from these sources, where the engine serves it from.
  await build({ configFile: join(process.cwd(), 'console', 'vite.config.ts'), logLevel: 'warn' });
  if (SHOTS) await mkdir(SHOTS, { recursive: true });
  engine = await startEngineFixture();
  const setUp = await setUpDsource(engine, 'console-ds');
  dsourceId = setUp.dsourceId;
  environments = setUp.environments;
  operatorToken = await token('operator');
  viewerToken = await token('viewer');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await engine?.stop();
}, 120_000);

describe('the engine serves the console', () => {
  it('at / without a token, its files under /console-assets/, and the API where it was', async () => {
    const page = await fetch(engine.runtime.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = must(/src="(\/console-assets\/[^"]+\.js)"/.exec(html)?.[1], 'the script of index.html');
    const asset = await fetch(`${engine.runtime.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // The API still needs its token, and /whoami says who the token is.
    expect((await fetch(`${engine.runtime.url}/vdbs`)).status).toBe(401);
    const whoami = await fetch(`${engine.runtime.url}/whoami`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(await whoami.json()).toMatchObject({ token: { name: 'console-viewer', role: 'viewer' } });
  });
});

describe('in a browser', () => {
  it('a wrong token is refused with what to do, and a down engine is said so', async () => {
    const page = await openPage();
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('The API token is not valid.');
    expect(await alert.textContent()).toContain('What to do: Use a token created by this engine');
    // Nothing was kept: a reload shows the form again.
    await page.reload();
    await page.getByLabel('API token').waitFor();
    // The engine going away between page load and sign-in: the browser's request fails.
    await page.route('**/whoami', (route) => route.abort('connectionrefused'));
    await page.getByLabel('API token').fill(operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('does not answer');
    expect(await page.getByRole('alert').textContent()).toContain('dvx engine start');
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  });

  it('an operator signs in; the token stays in the tab, not in the URL', async () => {
    const page = await openPage();
    await signIn(page, operatorToken);
    expect(await page.locator('.who').textContent()).toContain('operator');
    expect(page.url()).not.toContain(operatorToken);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('dvx.token')")).toBe(operatorToken);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Storage pool').waitFor();
    // The dSource is listed with its status and last run.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'dSources' }).click();
    const row = page.getByRole('row', { name: /console-ds/ });
    await expect.poll(() => row.textContent()).toContain('ACTIVE');
    expect(await row.textContent()).toContain('succeeded');
  });

  it('lists the environments with what discovery found, and refreshes one following its run', async () => {
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Environments' }).click();
    const source = page.getByRole('article', { name: `Environment ${engine.tourHost(0).name}` });
    await expect.poll(() => source.textContent()).toContain('source config console-ds');
    expect(await page.getByRole('article').count()).toBe(3);
    await source.getByRole('button', { name: `Refresh ${engine.tourHost(0).name}` }).click();
    await expect.poll(() => source.locator('.follower').textContent(), { timeout: 60_000 }).toMatch(/succeeded/);
    expect(await source.textContent()).toContain('ACTIVE');
  });

  it('provisions a VDB from a snapshot picked in the dSource timeline and watches its run finish live', async () => {
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/#/dsources/${dsourceId}`);
    const [snapshot] = await snapshotsOf(engine, dsourceId);
    await page.locator(`[data-snapshot-id="${must(snapshot, 'a snapshot of the dSource').id}"]`).click();
    await page.getByLabel('VDB name').fill('console-vdb');
    await page.getByLabel('Target environment').selectOption(must(environments[2], 'the target environment'));
    await page.getByLabel(/Parameters/).fill(JSON.stringify({ mountLocation: join(engine.dir, 'mnt', 'console-vdb') }));
    await page.getByRole('button', { name: 'Provision' }).click();
    // The run's page, updated while it runs, until it has succeeded.
    await page.waitForURL(/#\/runs\//);
    await page.getByRole('heading', { name: /provision/ }).waitFor();
    await expect
      .poll(() => page.getByRole('heading', { name: /provision/ }).textContent(), { timeout: 60_000 })
      .toContain('succeeded');
    expect(await page.locator('.steps .step').count()).toBeGreaterThan(2);
    const vdb = must(await vdbNamed('console-vdb'), 'the provisioned VDB');
    expect(vdb.status).toBe('READY');
    await page.getByRole('link', { name: /vdb/ }).first().click();
    await page.getByRole('heading', { name: /console-vdb/ }).waitFor();
  });

  it('bookmarks a dSource snapshot; the picture flags it and names the VDB provisioned from it', async () => {
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/#/dsources/${dsourceId}`);
    const [snapshot] = await snapshotsOf(engine, dsourceId);
    const mark = page.locator(`[data-snapshot-id="${must(snapshot, 'a snapshot of the dSource').id}"]`);
    await mark.click();
    await page.getByLabel('Bookmark name').fill('golden');
    await page.getByRole('button', { name: 'Bookmark', exact: true }).click();
    await expect.poll(() => page.locator('.timeline').textContent()).toContain('golden');
    expect(await mark.getAttribute('aria-label')).toContain('bookmarked golden');
    const bookmarks = await engine.client.get<{ bookmarks: { name: string }[] }>(`/bookmarks?of=${dsourceId}`);
    expect(bookmarks.bookmarks.map((bookmark) => bookmark.name)).toEqual(['golden']);
    // The VDB provisioned from that snapshot is named under its mark, a link to its page.
    await page.locator('.timeline a', { hasText: 'console-vdb' }).click();
    await page.getByRole('heading', { name: /console-vdb/ }).waitFor();
  });

  it('takes a snapshot, then rewinds to the first one chosen in the timeline picture with the keyboard', async () => {
    const vdb = must(await vdbNamed('console-vdb'), 'the VDB');
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/#/vdbs/${vdb.id}`);
    const marks = page.locator('.timeline [data-snapshot-id]');
    await marks.first().waitFor();
    const before = await marks.count();
    await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
    await expect.poll(() => page.locator('.follower').textContent(), { timeout: 60_000 }).toContain('succeeded');
    await expect.poll(() => marks.count()).toBe(before + 1);
    // Pick the oldest mark from the keyboard, then confirm the rewind.
    const first = must((await snapshotsOf(engine, vdb.id))[0], 'the first snapshot of the VDB');
    await page.locator(`[data-snapshot-id="${first.id}"]`).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Rewind' }).click();
    await page.getByRole('button', { name: 'Yes, rewind' }).click();
    await expect
      .poll(() => page.locator('.follower').last().textContent(), { timeout: 60_000 })
      .toMatch(/rewind.*succeeded/);
    // A new timeflow, drawn as a second lane, is now the current one.
    await expect.poll(() => page.locator('.timeline [data-timeflow-id]').count()).toBe(2);
    const after = must(await vdbNamed('console-vdb'), 'the VDB');
    expect(after.currentTimeflowId).not.toBe(vdb.currentTimeflowId);
    expect(await page.locator(`.lane-current[data-timeflow-id="${after.currentTimeflowId}"]`).count()).toBe(1);
  });

  it('a viewer sees no action, and an action forced with a viewer token is refused with what to do', async () => {
    const vdb = must(await vdbNamed('console-vdb'), 'the VDB');
    const page = await openPage();
    await signIn(page, viewerToken);
    await page.goto(`${engine.runtime.url}/#/vdbs/${vdb.id}`);
    await page.locator('.timeline [data-snapshot-id]').first().click();
    await page.getByRole('region', { name: 'Picked snapshot' }).waitFor();
    expect(await page.getByRole('toolbar', { name: 'Actions' }).count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);
    await page.goto(`${engine.runtime.url}/#/dsources/${dsourceId}`);
    await page.locator('.timeline [data-snapshot-id]').first().click();
    await page.getByRole('region', { name: 'Picked snapshot' }).waitFor();
    expect(await page.locator('main button').count()).toBe(0);

    // An operator's page whose token is swapped for a viewer's: the API refuses, and the page says why.
    const forced = await openPage();
    await signIn(forced, operatorToken);
    await forced.goto(`${engine.runtime.url}/#/vdbs/${vdb.id}`);
    await forced.evaluate(`sessionStorage.setItem('dvx.token', ${JSON.stringify(viewerToken)})`);
    await forced.getByRole('button', { name: 'Snapshot', exact: true }).click();
    const alert = forced.locator('.action-result [role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('A viewer token cannot do this');
    expect(await alert.textContent()).toContain('Ask an admin for a token with the operator role.');
  });

  it("a failing run shows its error and the plugin's action text", async () => {
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/#/dsources/${dsourceId}`);
    await page.locator('.timeline [data-snapshot-id]').first().click();
    await page.getByLabel('VDB name').fill('console-failing');
    await page.getByLabel('Target environment').selectOption(must(environments[2], 'the target environment'));
    await page
      .getByLabel(/Parameters/)
      .fill(JSON.stringify({ mountLocation: join(engine.dir, 'mnt', 'console-failing'), failConfigure: true }));
    await page.getByRole('button', { name: 'Provision' }).click();
    await page.waitForURL(/#\/runs\//);
    const heading = page.getByRole('heading', { name: /provision/ });
    await expect.poll(() => heading.textContent(), { timeout: 60_000 }).toContain('failed');
    const alert = page.locator('.run > [role="alert"]');
    expect(await alert.textContent()).toContain('The fixture refuses to configure this VDB.');
    expect(await alert.textContent()).toContain('What to do: Provision it without failConfigure.');
    // The failed step names it too.
    expect(await page.locator('.step-failed').textContent()).toContain('Provision it without failConfigure.');
  });

  it('the main pages at a laptop and a phone width (docs/console/)', async () => {
    const vdb = must(await vdbNamed('console-vdb'), 'the VDB');
    const runs = await engine.client.get<{ runs: { id: string; kind: string; status: string }[] }>(
      `/runs?objectId=${vdb.id}`,
    );
    const rewind = must(
      runs.runs.find((run) => run.kind.includes('rewind')),
      'the rewind run',
    );
    await screenshots('overview', '#/', (page) => page.getByText('Storage pool').waitFor());
    await screenshots('environments', '#/environments', (page) => page.getByRole('article').first().waitFor());
    await screenshots('dsource', `#/dsources/${dsourceId}`, (page) =>
      page.locator('.timeline', { hasText: 'golden' }).waitFor(),
    );
    await screenshots('vdbs', '#/vdbs', (page) => page.getByRole('row', { name: /console-vdb/ }).waitFor());
    await screenshots('vdb', `#/vdbs/${vdb.id}`, (page) =>
      page.locator('.timeline [data-snapshot-id]').first().waitFor(),
    );
    await screenshots('run', `#/runs/${rewind.id}`, (page) => page.locator('.steps .step').first().waitFor());
    await screenshots('runs', '#/runs', (page) =>
      page
        .getByRole('row', { name: /rewind/ })
        .first()
        .waitFor(),
    );
  });

  it('deletes a VDB after asking, and follows the delete to the list', async () => {
    const vdb = must(await vdbNamed('console-vdb'), 'the VDB');
    const page = await openPage();
    await signIn(page, operatorToken);
    await page.goto(`${engine.runtime.url}/#/vdbs/${vdb.id}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    // Asked first: Cancel leaves it alone.
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await vdbNamed('console-vdb')).toBeDefined();
    await page.getByRole('button', { name: 'Delete' }).click();
    expect(await page.getByRole('alertdialog').textContent()).toContain('Its data is gone for good.');
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForURL(/#\/vdbs$/, { timeout: 60_000 });
    expect(await vdbNamed('console-vdb')).toBeUndefined();
    await expect.poll(() => page.locator('main').textContent()).toContain('No VDB yet');
  });

  it('a token revoked while signed in brings back the form, saying why', async () => {
    const page = await openPage();
    const { secret, token } = await engine.client.post<{ secret: string; token: { id: string } }>('/tokens', {
      role: 'viewer',
      name: 'console-revoked',
    });
    await signIn(page, secret);
    await engine.client.delete(`/tokens/${token.id}`);
    // The overview's next poll (every 3 s) is refused: the page signs out and says why.
    await page.getByLabel('API token').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('alert').textContent()).toContain('The API token is not valid.');
    expect(await page.evaluate<string | null>("sessionStorage.getItem('dvx.token')")).toBeNull();
  });

  it('an admin creates and revokes tokens; an operator is shown no token administration', async () => {
    const admin = await openPage();
    await signIn(admin, engine.token);
    await admin.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Tokens' }).click();
    await admin.getByLabel('Token name').fill('console-made');
    await admin.getByLabel('Role').selectOption('viewer');
    await admin.getByRole('button', { name: 'Create token' }).click();
    const secret = must(await admin.locator('.secret').textContent(), 'the new secret');
    const whoami = await fetch(`${engine.runtime.url}/whoami`, { headers: { authorization: `Bearer ${secret}` } });
    expect(await whoami.json()).toMatchObject({ token: { name: 'console-made', role: 'viewer' } });
    const row = admin.getByRole('row', { name: /console-made/ });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect(
      (await fetch(`${engine.runtime.url}/whoami`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(401);

    const operator = await openPage();
    await signIn(operator, operatorToken);
    expect(await operator.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    await operator.goto(`${engine.runtime.url}/#/tokens`);
    await operator.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await operator.getByRole('button', { name: 'Create token' }).count()).toBe(0);
  });

  it('asked for nothing outside the engine', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(engine.runtime.url))).toEqual([]);
  });
});
