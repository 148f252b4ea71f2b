// Metadata-document clients are bounded like registered ones (issue 11, item 12). Rules: MCP
// 2026-07-28 authorization security considerations, "Authorization Server Abuse Protection",
// and the Client ID Metadata Document draft §6 (an authorization server that fetches documents
// for any URL must protect itself); RFC 7591 §3 (an open registration endpoint is rate-limited
// and bounded, which a client_id URL must not bypass). A new document URL spends the
// per-address registration budget shared with /oauth/register, counts towards the cap on
// self-registered clients and expires when unused; a `no-store` document is cached for a short
// minimum, so each authorization request does not fetch it again.
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test, type TestContext} from 'node:test'
import {authorize, pkce, register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'
import {selfSignedCert, serveHttps} from '../helpers/tls.js'

const REDIRECT = 'http://localhost/callback'

/** An https host serving a valid document at every /c/NAME.json (no-store ones at /nostore/NAME.json); counts fetches. */
async function documentHost(t: TestContext) {
  const tls = selfSignedCert(t)
  let base = ''
  const fetches = new Map<string, number>()
  const {port} = await serveHttps(t, tls, (req, res) => {
    const path = req.url ?? '/'
    if (!/^\/(c|nostore)\/[\w-]+\.json$/.test(path)) return res.writeHead(404).end()
    fetches.set(path, (fetches.get(path) ?? 0) + 1)
    const doc = {client_id: `${base}${path}`, client_name: 'Doc client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none'}
    res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': path.startsWith('/nostore/') ? 'no-store' : 'max-age=600'}).end(JSON.stringify(doc))
  })
  base = `https://localhost:${port}`
  return {tls, base, fetches: (path?: string) => (path ? (fetches.get(path) ?? 0) : [...fetches.values()].reduce((a, b) => a + b, 0))}
}

async function setup(t: TestContext, interactive: Record<string, unknown>) {
  const host = await documentHost(t)
  const s = await startInProcess(t, {interactive: {autoApprove: true, allowPrivateMetadataHosts: true, metadataDocumentCa: host.tls.cert, ...interactive}})
  const ask = (clientId: string) => {
    const {challenge} = pkce()
    return authorize(s.issuer, {response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'q'})
  }
  const documentClients = async () => (await s.store.clients.list({includeRevoked: false})).filter((c) => c.registration === 'metadata_document').length
  return {host, s, ask, documentClients}
}

test('many distinct client_id URLs from one address are capped by the per-address registration budget, shared with /oauth/register, and nothing is fetched beyond it', async (t) => {
  const {host, s, ask, documentClients} = await setup(t, {registrationLimit: {burst: 5, perMinute: 1}})
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await ask(`${host.base}/c/client-${i}.json`)).status)
  assert.deepEqual(statuses.slice(0, 5), [302, 302, 302, 302, 302])
  assert.ok(statuses.slice(5).every((x) => x === 429), statuses.join(' '))
  assert.equal(await documentClients(), 5, 'five client rows, not thirty')
  assert.equal(host.fetches(), 5, 'refused URLs are not fetched')
  // The same budget: /oauth/register from this address is refused too.
  assert.equal((await register(s.issuer, {redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none'})).status, 429)
  // A client already known needs no budget.
  assert.equal((await ask(`${host.base}/c/client-0.json`)).status, 302)
  // The budget refills (1 a minute).
  s.clock.advance(60_000)
  assert.equal((await ask(`${host.base}/c/client-5.json`)).status, 302)
  assert.equal(await documentClients(), 6)
})

test('metadata-document clients count towards the cap on self-registered clients, both ways round (503, nothing stored)', async (t) => {
  const {host, s, ask, documentClients} = await setup(t, {maxRegisteredClients: 3, registrationLimit: {burst: 1000, perMinute: 1000}})
  assert.equal((await register(s.issuer, {redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none'})).status, 201)
  assert.equal((await ask(`${host.base}/c/a.json`)).status, 302)
  assert.equal((await ask(`${host.base}/c/b.json`)).status, 302)
  const over = await ask(`${host.base}/c/c.json`)
  assert.equal(over.status, 503)
  assert.match(over.text, /too many registered applications/)
  assert.equal(await documentClients(), 2)
  assert.equal(host.fetches(`/c/c.json`), 0)
  const registered = await register(s.issuer, {redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none'})
  assert.equal(registered.status, 503, 'the documents filled the cap for /oauth/register too')
  assert.equal((await ask(`${host.base}/c/a.json`)).status, 302, 'known clients still work')
})

test('an unused metadata-document client expires like a registered one, and its URL is admitted again, as new, on its next use', async (t) => {
  const {host, s, ask} = await setup(t, {registrationLimit: {burst: 1000, perMinute: 1000}})
  const url = `${host.base}/c/idle.json`
  assert.equal((await ask(url)).status, 302)
  s.clock.advance(25 * 3600_000)
  // What the daemon's periodic upkeep runs (interactive.maintain, defaults: 24 h never used, 90 days idle).
  const now = s.clock.now()
  const expired = await s.store.registeredClients.expireUnused({neverUsedBefore: now - 24 * 3600_000, idleBefore: now - 90 * 86_400_000, at: now})
  assert.deepEqual(expired, [url])
  assert.equal((await s.store.clients.findById(url))!.revokedBy, 'expiry')
  // Not a permanent ban: the next authorization admits it again, fetched afresh.
  const before = host.fetches(`/c/idle.json`)
  assert.equal((await ask(url)).status, 302)
  assert.equal(host.fetches(`/c/idle.json`), before + 1)
  const again = (await s.store.clients.findById(url))!
  assert.equal(again.revokedAt, null)
  assert.equal(again.createdAt, s.clock.now())
  // One the owner revoked stays revoked.
  await s.admin.revoke(url, {by: 'test'}, cliActor())
  assert.equal((await ask(url)).status, 400)
})

test('a Cache-Control: no-store document is reused for a short minimum (60 s), not fetched on every authorization request', async (t) => {
  const {host, s, ask} = await setup(t, {registrationLimit: {burst: 1000, perMinute: 1000}})
  const url = `${host.base}/nostore/x.json`
  for (let i = 0; i < 10; i++) assert.equal((await ask(url)).status, 302)
  assert.equal(host.fetches('/nostore/x.json'), 1)
  s.clock.advance(61_000)
  assert.equal((await ask(url)).status, 302)
  assert.equal(host.fetches('/nostore/x.json'), 2)
})
