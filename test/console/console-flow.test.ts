// The owner's console in real headless Chromium, against the daemon in-process on real HTTP
// (issue 16): log in (the owner login of the consent page: RFC 9700 §4.10 budgets), see a client
// made with the CLI, create one and use its secret (RFC 6749 §4.4), watch a tool call arrive
// live (server-sent events), revoke a client and see its next call refused (CONTRACT.md
// oauth-revoke-client: "effective at once, also for a daemon that is already running").
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {test} from 'node:test'
import {hashPassword} from '../../src/owner/password.js'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {generateClient, basic, fetchToken} from '../helpers/clients.js'
import {connectWithClientCredentials, firstText} from '../helpers/mcp-client.js'
import {startInProcess} from '../helpers/server.js'
import {screenshot} from './helpers.js'

const PASSWORD = 'the owner password'
const FIXTURE = join(import.meta.dirname, 'fixtures', 'hostile-stderr-server.mjs')

test('Chromium: log in, see a CLI client, create one and use its secret, watch a call arrive live, revoke and see the next call refused', {skip: noBrowser}, async (t) => {
  const s = await startInProcess(t, {command: {command: process.execPath, args: [FIXTURE]}})
  // A cheap scrypt for tests: the parameters live in the stored hash (src/owner/password.ts).
  await s.store.owner.setPasswordHash(await hashPassword(PASSWORD, {params: {N: 2 ** 12, r: 8, p: 1}}), s.clock.now())
  const fromCli = await generateClient(s.dataDir, ['--name', 'made-with-the-cli'])
  const cliToken = await fetchToken(s.issuer, fromCli)

  const browser = await launchBrowser(t)
  const page = await browser.newPage({viewport: {width: 1280, height: 900}})
  const violations: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text())
  })

  // Not logged in: every page sends the browser to the login form.
  await page.goto(`${s.issuer}/console/clients`)
  assert.equal(new URL(page.url()).pathname, '/console/login')
  await screenshot(page, 'login')
  // A wrong password is refused (401), and says so.
  await page.fill('#password', 'not the password')
  const [wrong] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'), page.click('button[type=submit]')])
  assert.equal(wrong.status(), 401)
  assert.match(await page.textContent('.error') ?? '', /Wrong password/)
  await page.fill('#password', PASSWORD)
  await Promise.all([page.waitForURL(/\/console\/clients$/), page.click('button[type=submit]')])

  // The CLI's client is listed among the owner-created ones.
  const cliRow = page.locator('tr', {hasText: fromCli.client_id})
  assert.equal(await cliRow.count(), 1)
  assert.match((await cliRow.textContent()) ?? '', /made-with-the-cli/)
  assert.match((await cliRow.textContent()) ?? '', /owner-created/)

  // Create a client in the console: the secret is shown once, with the CLI's snippets.
  await page.fill('#name', 'made-in-the-console')
  const [created] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/clients/create')), page.click('form.create button[type=submit]')])
  assert.equal(created.status(), 201)
  assert.equal(created.headers()['cache-control'], 'no-store')
  const made = {client_id: (await page.textContent('#client-id'))!, client_secret: (await page.textContent('#client-secret'))!, scopes: ['mcp']}
  assert.match(made.client_secret, /\S{20,}/)
  assert.match((await page.textContent('main'))!, /curl -s -u/)
  assert.match((await page.textContent('main'))!, /ClientCredentialsProvider/)
  const token = await fetchToken(s.issuer, made)
  assert.ok(token.length > 20, 'the console-made secret gets a token')

  // Activity, live: a tool call shows up within a second of its answer.
  await page.goto(`${s.issuer}/console/activity`)
  await page.waitForSelector('#live-state[data-state=on]')
  const mcp = await connectWithClientCredentials(t, `${s.issuer}/mcp`, {clientId: made.client_id, clientSecret: made.client_secret, issuer: s.issuer})
  const marker = `hello-${Date.now()}`
  assert.equal(firstText(await mcp.callTool({name: 'echo', arguments: {text: marker}})), marker)
  const answered = performance.now()
  await page.waitForFunction(
    (id) => {
      const doc = (globalThis as unknown as {document: {querySelectorAll(s: string): ArrayLike<{textContent: string | null}>}}).document
      return Array.from(doc.querySelectorAll('#audit tbody tr')).some((tr) => (tr.textContent ?? '').includes('echo') && (tr.textContent ?? '').includes(id))
    },
    made.client_id,
    {timeout: 1000},
  )
  const liveMs = performance.now() - answered
  t.diagnostic(`tool call on the Activity page ${liveMs.toFixed(0)} ms after its answer`)
  assert.ok(liveMs <= 1000)
  await mcp.callTool({name: 'echo', arguments: {text: 'once more'}})
  await page.goto(`${s.issuer}/console/activity?${new URLSearchParams({client: made.client_id})}`)
  assert.ok(await page.locator('figure.chart svg rect.calls').count() >= 1, 'the chart of the last hour shows the calls')
  await screenshot(page, 'activity')
  await page.goto(`${s.issuer}/console/health`)
  assert.match((await page.textContent('main'))!, /Restarts/)
  await screenshot(page, 'health')

  // Revoke the CLI's client, with a reason, after the confirmation page.
  await page.goto(`${s.issuer}/console/clients`)
  await screenshot(page, 'clients')
  await page.locator('tr', {hasText: fromCli.client_id}).locator('a', {hasText: 'Revoke'}).click()
  await page.waitForURL(/\/console\/clients\/revoke\?/)
  assert.match((await page.textContent('h1'))!, /made-with-the-cli/)
  await page.fill('#reason', 'laptop lost')
  await Promise.all([page.waitForURL(/\/console\/clients\?revoked=/), page.click('button[name=confirm]')])
  assert.match((await page.textContent('.notice'))!, /revoked/)
  // Its next calls are refused: no new token, and the token it holds no longer opens /mcp.
  const again = await fetch(`${s.issuer}/oauth/token`, {method: 'POST', headers: {Authorization: basic(fromCli.client_id, fromCli.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'}, body: 'grant_type=client_credentials'})
  assert.equal(again.status, 401)
  const held = await fetch(`${s.issuer}/mcp`, {method: 'POST', headers: {Authorization: `Bearer ${cliToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'x', version: '1'}}})})
  assert.equal(held.status, 401)
  const events = await s.store.audit.query({clientId: fromCli.client_id, event: 'client.revoked'})
  assert.equal(events.length, 1)
  // Recorded where it was done, by whom: the console and the signed-in owner (not "cli").
  const owner = (await s.store.users.primaryOwner())!
  assert.deepEqual([events[0]!.method, events[0]!.subject, events[0]!.detail], ['console', owner.id, {reason: 'laptop lost', by: owner.name}])
  const createdBy = async (clientId: string) => (await s.store.audit.query({clientId, event: 'client.created'})).map((e) => e.method)
  assert.deepEqual(await createdBy(fromCli.client_id), ['cli'])
  assert.deepEqual(await createdBy(made.client_id), ['console'])
  assert.deepEqual(violations, [], 'no CSP violation on any page')
})
