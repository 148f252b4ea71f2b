// What the console refuses, and what client- and child-chosen text cannot do to it (issue 16).
// Rules: CSRF synchronizer tokens (OWASP CSRF Prevention Cheat Sheet; RFC 6749 §10.12 for the
// same login's consent form); clickjacking (RFC 9700 §4.16; CSP frame-ancestors, X-Frame-Options
// RFC 7034); a bearer token is for the resource it was issued for (RFC 9068 §4, RFC 8707), never
// the console; client text: Unicode TR36 §2.3 and UAX #9 §2.7 (<bdi>), HTML escaping.
import assert from 'node:assert/strict'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {test} from 'node:test'
import {consolePath} from '../../src/console/console.js'
import {hashPassword} from '../../src/owner/password.js'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {fetchToken} from '../helpers/clients.js'
import {connectWithClientCredentials} from '../helpers/mcp-client.js'
import {startInProcess} from '../helpers/server.js'
import {consoleHttp, screenshot} from './helpers.js'

const PASSWORD = 'the owner password'
const FIXTURE = join(import.meta.dirname, 'fixtures', 'hostile-stderr-server.mjs')
const cheap = () => hashPassword(PASSWORD, {params: {N: 2 ** 12, r: 8, p: 1}})

test('a change without the session CSRF token, or with another, is refused (403) and changes nothing', async (t) => {
  const s = await startInProcess(t)
  await s.store.owner.setPasswordHash(await cheap(), s.clock.now())
  const victim = await s.client({name: 'victim'})
  const b = consoleHttp(s.issuer)
  const csrf = await b.logIn(PASSWORD)
  const before = (await s.store.clients.list({includeRevoked: true})).length
  const forged: Array<Record<string, string>> = [{}, {csrf_token: ''}, {csrf_token: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A')}]
  for (const fields of forged) {
    const created = await b.post('/clients/create', {...fields, name: 'csrf-made'})
    assert.equal(created.status, 403, JSON.stringify(fields))
    const revoked = await b.post('/clients/revoke', {...fields, client_id: victim.client_id, confirm: 'yes'})
    assert.equal(revoked.status, 403)
    assert.equal((await b.post('/logout', fields)).status, 403)
  }
  assert.equal((await s.store.clients.list({includeRevoked: true})).length, before, 'nothing was created')
  assert.equal((await s.store.clients.findById(victim.client_id))!.revokedAt, null, 'nothing was revoked')
  // The same token on the right form goes through: the refusals above were the token's doing.
  const ok = await b.post('/clients/create', {csrf_token: csrf, name: 'csrf-made'})
  assert.equal(ok.status, 201)
  // The login form's own token is checked before the password (no budget spent on a forged login).
  const other = consoleHttp(s.issuer)
  await other.get('/login')
  assert.equal((await other.post('/login', {password: PASSWORD})).status, 403)
})

test('a client bearer token never opens the console, with or without the owner session (RFC 9068 §4)', async (t) => {
  const s = await startInProcess(t)
  await s.store.owner.setPasswordHash(await cheap(), s.clock.now())
  const c = await s.client({name: 'agent'})
  const token = await fetchToken(s.issuer, c)
  for (const path of ['/clients', '/activity', '/health', '/activity/events', '']) {
    const r = await fetch(`${s.issuer}/console${path}`, {headers: {Authorization: `Bearer ${token}`}, redirect: 'manual'})
    assert.equal(r.status, 401, path)
    assert.ok(!(await r.text()).includes(c.client_id), 'no console content')
  }
  const b = consoleHttp(s.issuer)
  const csrf = await b.logIn(PASSWORD)
  assert.equal((await b.get('/clients')).status, 200)
  assert.equal((await b.get('/clients', {Authorization: `Bearer ${token}`})).status, 401)
  assert.equal((await b.post('/clients/create', {csrf_token: csrf, name: 'with-bearer'}, {Authorization: `Bearer ${token}`})).status, 401)
  assert.equal((await s.store.clients.findActiveByName('with-bearer')).length, 0)
})

test('pages carry a strict CSP (no inline script or style), frame-ancestors none and X-Frame-Options DENY; Chromium will not frame them', {skip: noBrowser}, async (t) => {
  const s = await startInProcess(t)
  await s.store.owner.setPasswordHash(await cheap(), s.clock.now())
  const b = consoleHttp(s.issuer)
  await b.logIn(PASSWORD)
  for (const path of ['/login', '/clients', '/activity', '/health']) {
    const r = await (path === '/login' ? consoleHttp(s.issuer) : b).get(path)
    assert.equal(r.status, 200, path)
    const csp = String(r.headers['content-security-policy'])
    assert.match(csp, /script-src 'self'/, path)
    assert.match(csp, /style-src 'self'/, path)
    assert.match(csp, /frame-ancestors 'none'/, path)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|nonce-|https?:/, path)
    assert.equal(r.headers['x-frame-options'], 'DENY', path)
    assert.doesNotMatch(r.text, /<script(?![^>]*\ssrc=)[^>]*>|\sstyle=|<style/i, `${path}: no inline script or style`)
  }
  // Another origin (another loopback port) frames the console: Chromium refuses to render it.
  const framer = createServer((_req, res) => res.writeHead(200, {'Content-Type': 'text/html'}).end(`<iframe id="f" src="${s.issuer}/console/login"></iframe>`))
  await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => framer.close(() => resolve())))
  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  const blocked = page.waitForEvent('console', (m) => /frame-ancestors|X-Frame-Options|Refused to (display|frame)/i.test(m.text()))
  await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`)
  await blocked
  const frame = page.frames().find((f) => f !== page.mainFrame())!
  assert.equal(await frame.locator('#password').count().catch(() => 0), 0, 'the login form is not in the frame')
})

test('Chromium: hostile names, tool names and stderr lines neither run nor break the layout, at desktop and phone width (TR36 §2.3, UAX #9 §2.7)', {skip: noBrowser}, async (t) => {
  const s = await startInProcess(t, {command: {command: process.execPath, args: [FIXTURE]}})
  await s.store.owner.setPasswordHash(await cheap(), s.clock.now())
  const hostile = [
    '<script>window.__pwned = "name"</script>',
    '<img src=x onerror="window.__pwned=\'img\'">',
    'Docs \u202Eevil gnissecorp',
    'x'.repeat(5000),
  ]
  // Stored as records made before any check would be (the store holds whatever it holds).
  const ids: string[] = []
  for (const [i, name] of hostile.entries()) {
    const id = `gtc_hostile_${i}`
    ids.push(id)
    await s.store.clients.insert({id, name, description: name, secretHash: null, authMethod: 'private_key_jwt', jwks: {keys: []}, scopes: ['mcp'], grantTypes: ['client_credentials'], redirectUris: [], accessTokenTtl: null, tokenRateLimit: null, mcpRateLimit: null, registration: i % 2 ? 'dynamic' : 'metadata_document', metadata: {}, createdAt: s.clock.now()})
  }
  // A real client calls tools with hostile names; the gateway records them in the audit trail.
  const agent = await s.client({name: 'agent'})
  const mcp = await connectWithClientCredentials(t, `${s.issuer}/mcp`, {clientId: agent.client_id, clientSecret: agent.client_secret, issuer: s.issuer})
  for (const name of hostile) await mcp.callTool({name, arguments: {}}).catch(() => undefined)
  await s.store.consents.remember({clientId: ids[2]!, subject: 'owner', scopes: ['mcp', '\u202Emcp'], at: s.clock.now()})

  const browser = await launchBrowser(t)
  for (const [label, viewport] of [['desktop', {width: 1280, height: 900}], ['phone', {width: 375, height: 800}]] as const) {
    const context = await browser.newContext({viewport})
    const page = await context.newPage()
    const violations: string[] = []
    page.on('console', (m) => void (/Content Security Policy|Refused to/i.test(m.text()) && violations.push(m.text())))
    page.on('dialog', (d) => void d.dismiss())
    await page.goto(`${s.issuer}/console/login`)
    await page.fill('#password', PASSWORD)
    await Promise.all([page.waitForURL(/\/console\/clients$/), page.click('button[type=submit]')])
    for (const view of ['clients', 'activity', 'health']) {
      await page.goto(`${s.issuer}/console/${view}`)
      if (view === 'activity') await page.waitForSelector('#live-state[data-state=on]')
      // The page as a person sees it (a string: this test's TypeScript has no DOM types).
      const seen = (await page.evaluate(`(() => ({
        pwned: window.__pwned ?? null,
        scripts: [...document.scripts].map((s) => s.getAttribute('src')),
        images: document.images.length,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        text: document.body.innerText,
        raw: document.body.textContent.includes('\\u202E'),
        bidi: [...document.querySelectorAll('bdi')].every((b) => getComputedStyle(b).unicodeBidi === 'isolate'),
      }))()`)) as {pwned: string | null; scripts: string[]; images: number; overflow: number; text: string; raw: boolean; bidi: boolean}
      assert.equal(seen.pwned, null, `${label} ${view}: nothing ran`)
      assert.deepEqual(seen.scripts, ['/console/assets/console.js'], `${label} ${view}: only the console's own script`)
      assert.equal(seen.images, 0, `${label} ${view}: no injected image`)
      assert.ok(seen.overflow <= 0, `${label} ${view}: ${seen.overflow}px wider than the screen`)
      assert.equal(seen.raw, false, `${label} ${view}: the override character is shown, never obeyed`)
      assert.ok(seen.bidi, `${label} ${view}: client text isolated`)
      if (view !== 'health') assert.ok(seen.text.includes('<script>window.__pwned'), `${label} ${view}: markup shown as text`)
      if (view === 'health') assert.ok(seen.text.includes('<U+202E>gnissecorp'), 'stderr override shown as <U+202E>')
      if (view === 'clients') assert.ok(seen.text.includes('Docs <U+202E>evil'), 'name override shown as <U+202E>')
      await screenshot(page, `${view}-${label}-hostile`)
    }
    // The live view builds its rows in the browser: the same guarantees for a row that arrives now.
    await page.goto(`${s.issuer}/console/activity`)
    await page.waitForSelector('#live-state[data-state=on]')
    await mcp.callTool({name: '<img src=y onerror="window.__pwned=\'live\'">\u202Eevil', arguments: {}}).catch(() => undefined)
    // A function, not a string: the console's CSP (no 'unsafe-eval') refuses string evaluation.
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as {document: {querySelectorAll(s: string): ArrayLike<{textContent: string | null}>}}).document
      return Array.from(doc.querySelectorAll('#audit tbody tr.fresh')).some((tr) => (tr.textContent ?? '').includes('src=y'))
    }, undefined, {timeout: 5000})
    const live = (await page.evaluate(`(() => ({pwned: window.__pwned ?? null, images: document.images.length, raw: document.body.textContent.includes('\\u202E'), overflow: document.documentElement.scrollWidth - window.innerWidth}))()`)) as {pwned: string | null; images: number; raw: boolean; overflow: number}
    assert.deepEqual(live, {pwned: null, images: 0, raw: false, overflow: live.overflow <= 0 ? live.overflow : 0})
    assert.deepEqual(violations, [], `${label}: no CSP violation`)
    await context.close()
  }
})

test('--console-path: plain absolute paths only, never one the daemon already serves; --no-console serves nothing', async (t) => {
  assert.equal(consolePath('/admin/console/'), '/admin/console')
  for (const bad of ['console', '/', '/a/../b', '/a//b', '/oauth', '/mcp/console', '/.well-known/x', '/con sole', '/c?x=1']) {
    assert.throws(() => consolePath(bad), /console-path/, bad)
  }
  const off = await startInProcess(t, {console: false})
  assert.equal((await fetch(`${off.issuer}/console/login`)).status, 404)
  const moved = await startInProcess(t, {console: {path: '/admin'}})
  assert.equal((await fetch(`${moved.issuer}/admin/login`)).status, 200)
  assert.equal((await fetch(`${moved.issuer}/console/login`)).status, 404)
})
