import assert from 'node:assert/strict'
import {test} from 'node:test'
import {request} from 'undici'
import {createGuardedAgent} from '../../src/oauth/metadata-document/guarded-agent.js'
import {isNonPublicAddress} from '../../src/oauth/metadata-document/address-policy.js'
import {authorize, pkce, token} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'
import {selfSignedCert, serveHttps} from '../helpers/tls.js'

const REDIRECT = 'http://localhost/callback'

async function hostileHost(t: Parameters<typeof selfSignedCert>[0]) {
  const tls = selfSignedCert(t)
  let base = ''
  const doc = (path: string, extra: Record<string, unknown> = {}) => JSON.stringify({client_id: `${base}${path}`, client_name: 'Claude Code', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...extra})
  let goodFetches = 0
  const {port} = await serveHttps(t, tls, (req, res) => {
    switch (req.url) {
      case '/good.json':
        goodFetches++
        return res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'max-age=600'}).end(doc('/good.json'))
      case '/slow.json':
        return // never answers
      case '/huge.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/huge.json', {pad: 'x'.repeat(100_000)}))
      case '/chunked-huge.json':
        res.writeHead(200, {'Content-Type': 'application/json'})
        for (let i = 0; i < 40; i++) res.write('x'.repeat(1024))
        return res.end()
      case '/redirect.json':
        return res.writeHead(302, {Location: `${base}/good.json`}).end()
      case '/other-id.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/other-id.json', {client_id: `${base}/good.json`}))
      case '/secret.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/secret.json', {token_endpoint_auth_method: 'client_secret_basic'}))
      case '/js-redirect.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/js-redirect.json', {redirect_uris: ['javascript:alert(1)']}))
      case '/not-json.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end('<html>')
      default:
        return res.writeHead(404).end()
    }
  })
  base = `https://localhost:${port}`
  return {tls, base, port, goodFetches: () => goodFetches}
}

test('client ID metadata documents: a good one is used and cached; hostile ones (slow, huge, redirecting, lying) are refused (CIMD draft §4, §6)', async (t) => {
  const host = await hostileHost(t)
  const s = await startInProcess(t, {interactive: {autoApprove: true, allowPrivateMetadataHosts: true, metadataDocumentCa: host.tls.cert, metadataDocumentTimeoutMs: 500}})
  const {challenge, verifier} = pkce()
  const ask = (clientId: string, redirectUri = 'http://localhost:5123/callback') =>
    authorize(s.issuer, {response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'q'})

  const good = `${host.base}/good.json`
  const r = await ask(good)
  assert.equal(r.status, 302, r.text.slice(0, 500))
  const code = r.location!.searchParams.get('code')!
  const tokens = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: good, redirect_uri: 'http://localhost:5123/callback', code_verifier: verifier})
  assert.equal(tokens.status, 200)
  const client = await s.store.clients.findById(good)
  assert.equal(client!.registration, 'metadata_document')
  // Cached per Cache-Control: a second authorization does not fetch again.
  assert.equal((await ask(good)).status, 302)
  assert.equal(host.goodFetches(), 1)
  // A redirect URI not in the document gets the error page.
  const wrong = await ask(good, 'https://evil.example/callback')
  assert.equal(wrong.status, 400)
  assert.equal(wrong.location, undefined)

  for (const [path, reason] of [
    ['/slow.json', /took too long/],
    ['/huge.json', /larger than/],
    ['/chunked-huge.json', /larger than/],
    ['/redirect.json', /redirect/],
    ['/other-id.json', /client_id is not the URL/],
    ['/secret.json', /not supported/],
    ['/js-redirect.json', /javascript/],
    ['/not-json.json', /not valid JSON/],
    ['/missing.json', /HTTP 404/],
  ] as const) {
    const bad = await ask(`${host.base}${path}`)
    assert.equal(bad.status, 400, path)
    assert.equal(bad.location, undefined, path)
    assert.match(bad.text, reason, path)
  }
  for (const id of [`http://localhost:${host.port}/good.json`, `${host.base}/`, `${host.base}/a/../good.json`, `https://user@localhost:${host.port}/good.json`]) {
    const bad = await ask(id)
    assert.equal(bad.status, 400, id)
    assert.equal(bad.location, undefined, id)
  }
})

test('metadata documents on loopback or private addresses are refused without the development flag (SSRF)', async (t) => {
  const host = await hostileHost(t)
  const s = await startInProcess(t, {interactive: {autoApprove: true, metadataDocumentCa: host.tls.cert}})
  const {challenge} = pkce()
  for (const id of [`${host.base}/good.json`, `https://127.0.0.1:${host.port}/good.json`]) {
    const r = await authorize(s.issuer, {response_type: 'code', client_id: id, redirect_uri: 'http://localhost:5123/callback', code_challenge: challenge, code_challenge_method: 'S256'})
    assert.equal(r.status, 400, id)
    assert.match(r.text, /non-public address/, id)
  }
  assert.equal(host.goodFetches(), 0, 'nothing reached the host')
})

test('DNS rebinding: a name that resolves to loopback at connect time is refused by the guarded agent', async (t) => {
  const host = await hostileHost(t)
  // A resolver that says 127.0.0.1 for a public-looking name, as a rebinding attacker's DNS would.
  const agent = createGuardedAgent({
    allowNonPublic: false,
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1000,
    ca: host.tls.cert,
    lookup: ((_name: string, options: {all?: boolean}, cb: (e: null, a: unknown, f?: number) => void) =>
      options.all ? cb(null, [{address: '127.0.0.1', family: 4}]) : cb(null, '127.0.0.1', 4)) as never,
  })
  t.after(() => agent.close())
  await assert.rejects(request(`https://rebind.example:${host.port}/good.json`, {dispatcher: agent}), (e: Error) => /non-public address 127\.0\.0\.1/.test(`${e.message} ${(e.cause as Error | undefined)?.message}`))
  assert.equal(host.goodFetches(), 0)
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0', '100.64.0.1']) assert.equal(isNonPublicAddress(a), true, a)
  for (const a of ['93.184.216.34', '2606:4700::1111', '1.1.1.1']) assert.equal(isNonPublicAddress(a), false, a)
})
