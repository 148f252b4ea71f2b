// Abuse of dynamic client registration and of client ID metadata documents. Rules: RFC 7591 §2
// and §3.2.2 (metadata checked, invalid_redirect_uri / invalid_client_metadata), OAuth 2.1
// §2.3.1 and RFC 8252 §7 (what a redirect URI may be), RFC 9700 §4.1 and §2.1.2 (no implicit),
// CIMD draft §4.1 and §6 (the document names its own URL; Server-Side Request Forgery), MCP
// security best practices §Server-Side Request Forgery (no loopback, private, link-local or
// cloud metadata addresses, by any spelling, nor through DNS).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {request} from 'undici'
import {isNonPublicAddress} from '../../src/oauth/metadata-document/address-policy.js'
import {createGuardedAgent} from '../../src/oauth/metadata-document/guarded-agent.js'
import {assertStillServes, interactiveServer, perFile, WEB} from '../helpers/attacks.js'
import {authorize, pkce, register} from '../helpers/interactive.js'
import {hostileHost} from '../helpers/metadata-host.js'

const server = perFile((t) => interactiveServer(t, {interactive: {metadataDocumentTimeoutMs: 500}}))

const registerRefused = async (meta: Record<string, unknown>, error: string) => {
  const {s} = server()
  const before = (await s.store.clients.list({includeRevoked: true})).length
  const r = await register(s.issuer, meta)
  assert.equal(r.status, 400, JSON.stringify(r.body))
  assert.equal(r.body.error, error)
  assert.equal(r.body.client_id, undefined)
  assert.equal((await s.store.clients.list({includeRevoked: true})).length, before, 'nothing was stored')
}

for (const [attack, meta, error] of [
  ['a javascript: redirect URI', {redirect_uris: ['javascript:alert(1)']}, 'invalid_redirect_uri'],
  ['a data: redirect URI', {redirect_uris: ['data:text/html,hi']}, 'invalid_redirect_uri'],
  ['a file: redirect URI', {redirect_uris: ['file:///etc/passwd']}, 'invalid_redirect_uri'],
  ['a redirect URI with a fragment', {redirect_uris: ['https://app.example/cb#x']}, 'invalid_redirect_uri'],
  ['an http redirect URI to a public host', {redirect_uris: ['http://app.example/cb']}, 'invalid_redirect_uri'],
  ['a redirect URI with userinfo', {redirect_uris: ['https://user:pw@app.example/cb']}, 'invalid_redirect_uri'],
  ['a redirect URI with CR/LF', {redirect_uris: ['https://app.example/cb\r\nSet-Cookie: x=1']}, 'invalid_redirect_uri'],
  ['no redirect URIs', {client_name: 'x'}, 'invalid_redirect_uri'],
  ['redirect URIs that are not a list', {redirect_uris: 'https://app.example/cb'}, 'invalid_redirect_uri'],
  ['redirect URIs that are not strings', {redirect_uris: [{href: WEB}]}, 'invalid_redirect_uri'],
  ['too many redirect URIs', {redirect_uris: Array.from({length: 21}, (_, i) => `https://app.example/${i}`)}, 'invalid_redirect_uri'],
  ['the client_credentials grant', {redirect_uris: [WEB], grant_types: ['client_credentials']}, 'invalid_client_metadata'],
  ['the implicit response type (RFC 9700 §2.1.2)', {redirect_uris: [WEB], response_types: ['token']}, 'invalid_client_metadata'],
  ['private_key_jwt without a way to check keys', {redirect_uris: [WEB], token_endpoint_auth_method: 'private_key_jwt'}, 'invalid_client_metadata'],
  ['a jwks_uri (an SSRF vector)', {redirect_uris: [WEB], jwks_uri: 'https://169.254.169.254/jwks'}, 'invalid_client_metadata'],
  // A scope the server does not offer is dropped, not refused (RFC 7591 §3.2.1): test/security/registration-leniency.test.ts.
  ['a scope that is not scope syntax', {redirect_uris: [WEB], scope: 'mcp "admin"'}, 'invalid_client_metadata'],
  ['control characters in the name', {redirect_uris: [WEB], client_name: 'evil\u0000name'}, 'invalid_client_metadata'],
  ['CR/LF in the name (header injection)', {redirect_uris: [WEB], client_name: 'App\r\nX-Injected: 1'}, 'invalid_client_metadata'],
  ['a huge name', {redirect_uris: [WEB], client_name: 'x'.repeat(5000)}, 'invalid_client_metadata'],
  ['a logo over http', {redirect_uris: [WEB], logo_uri: 'http://app.example/logo.png'}, 'invalid_client_metadata'],
  ['a javascript: client_uri', {redirect_uris: [WEB], client_uri: 'javascript:alert(1)'}, 'invalid_client_metadata'],
] as const) {
  test(`registration: ${attack} is refused and nothing is stored (RFC 7591 §3.2.2)`, async () => {
    await registerRefused(meta as Record<string, unknown>, error)
  })
}

test('registration: a "__proto__" member neither pollutes prototypes nor supplies metadata (RFC 7591 §2)', async () => {
  const {s} = server()
  const res = await fetch(`${s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: `{"__proto__":{"redirect_uris":["${WEB}"],"isAdmin":true},"client_name":"p"}`})
  assert.equal(res.status, 400)
  assert.equal(((await res.json()) as {error: string}).error, 'invalid_redirect_uri')
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined)
  assert.equal(({} as Record<string, unknown>).redirect_uris, undefined)
})

test('registration: metadata over 16 KiB is refused with 413 before parsing (RFC 7591 §3; DESIGN principle 7)', async () => {
  const {s} = server()
  const big = await fetch(`${s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({redirect_uris: [WEB], pad: 'x'.repeat(20_000)})})
  assert.equal(big.status, 413)
  await assertStillServes(s.issuer)
})

test('registration: a body that is not JSON is invalid_client_metadata (RFC 7591 §3.2.2)', async () => {
  const {s} = server()
  const notJson = await fetch(`${s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"redirect_uris":'})
  assert.equal(notJson.status, 400)
  assert.equal(((await notJson.json()) as {error: string}).error, 'invalid_client_metadata')
})

// SSRF through a client_id URL: every spelling of a non-public address is refused before any
// connection is made (the reason is the same for all, so it is no port-scanning oracle).
for (const [target, id] of [
  ['cloud metadata (169.254.169.254)', 'https://169.254.169.254/latest/meta-data.json'],
  ['a private network address (10.x)', 'https://10.0.0.1/client.json'],
  ['a private network address (192.168.x)', 'https://192.168.1.1/client.json'],
  ['IPv6 loopback [::1]', 'https://[::1]/client.json'],
  ['IPv6 unique-local [fd00::1]', 'https://[fd00::1]/client.json'],
  ['the unspecified address 0.0.0.0', 'https://0.0.0.0/client.json'],
  ['loopback as a decimal integer (2130706433)', 'https://2130706433/client.json'],
  ['loopback in hex (0x7f000001)', 'https://0x7f000001/client.json'],
  ['loopback in octal (017700000001)', 'https://017700000001/client.json'],
  ['loopback shortened (127.1)', 'https://127.1/client.json'],
  ['IPv4-mapped loopback [::ffff:127.0.0.1]', 'https://[::ffff:127.0.0.1]/client.json'],
  ['IPv4-mapped cloud metadata [::ffff:169.254.169.254]', 'https://[::ffff:169.254.169.254]/client.json'],
  ['a name that resolves to loopback (localhost)', 'https://localhost/client.json'],
] as const) {
  test(`SSRF: a metadata document at ${target} is not fetched (CIMD draft §6; MCP security best practices §SSRF)`, async () => {
    const {s} = server()
    const r = await authorize(s.issuer, {response_type: 'code', client_id: id, redirect_uri: 'http://localhost:5123/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256'})
    assert.equal(r.status, 400)
    assert.equal(r.location, undefined)
    assert.match(r.text, /non-public address/)
  })
}

test('SSRF: an IP-literal host is refused by the guarded agent before connecting (CIMD draft §6)', async (t) => {
  const host = await hostileHost(t)
  const agent = createGuardedAgent({allowNonPublic: false, connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, ca: host.tls.cert})
  t.after(() => agent.close())
  await assert.rejects(request(`https://127.0.0.1:${host.port}/good.json`, {dispatcher: agent}), (e: Error) => /non-public address 127\.0\.0\.1/.test(`${e.message} ${(e.cause as Error | undefined)?.message}`))
  assert.equal(host.goodFetches(), 0)
})

test('SSRF: metadata documents on loopback are refused without the development flag, and nothing reaches the host (CIMD draft §6)', async (t) => {
  const host = await hostileHost(t)
  const {s} = await interactiveServer(t, {interactive: {metadataDocumentCa: host.tls.cert}})
  for (const id of [`${host.base}/good.json`, `https://127.0.0.1:${host.port}/good.json`]) {
    const r = await authorize(s.issuer, {response_type: 'code', client_id: id, redirect_uri: 'http://localhost:5123/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256'})
    assert.equal(r.status, 400, id)
    assert.match(r.text, /non-public address/, id)
  }
  assert.equal(host.goodFetches(), 0, 'nothing reached the host')
})

test('SSRF through DNS rebinding: a name that resolves to loopback at connect time is refused by the guarded agent (MCP security best practices §SSRF)', async (t) => {
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
})

test('SSRF: the address policy covers loopback, private, link-local, CGNAT, unspecified, mapped, IPv4-compatible and 6to4 forms', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '::127.0.0.1', '2002:7f00:1::', '0.0.0.0', '::', '100.64.0.1', 'not-an-ip']) {
    assert.equal(isNonPublicAddress(a), true, a)
  }
  for (const a of ['93.184.216.34', '2606:4700::1111', '1.1.1.1']) assert.equal(isNonPublicAddress(a), false, a)
})

// Hostile documents served from a host the development flag allows.
const hostile = perFile(async (t) => {
  const host = await hostileHost(t)
  const {s} = await interactiveServer(t, {interactive: {allowPrivateMetadataHosts: true, metadataDocumentCa: host.tls.cert, metadataDocumentTimeoutMs: 500}})
  return {host, s}
})
for (const [attack, path, reason] of [
  ['a document that never answers', '/slow.json', /took too long/],
  ['a huge document', '/huge.json', /larger than/],
  ['a huge chunked document without Content-Length', '/chunked-huge.json', /larger than/],
  ['a redirect to another document', '/redirect.json', /redirect/],
  ['a document naming another client_id', '/other-id.json', /client_id is not the URL/],
  ['a document asking for a client secret', '/secret.json', /not supported/],
  ['a document with a javascript: redirect URI', '/js-redirect.json', /javascript/],
  ['a document that is not JSON', '/not-json.json', /not valid JSON/],
  ['a missing document', '/missing.json', /HTTP 404/],
] as const) {
  test(`metadata document: ${attack} is refused with an error page (CIMD draft §4, §6)`, async () => {
    const {host, s} = hostile()
    const r = await authorize(s.issuer, {response_type: 'code', client_id: `${host.base}${path}`, redirect_uri: 'http://localhost:5123/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256'})
    assert.equal(r.status, 400)
    assert.equal(r.location, undefined)
    assert.match(r.text, reason)
    await assertStillServes(s.issuer)
  })
}

test('metadata document: client_id URLs over http, without a path, with dot segments or userinfo are refused (CIMD draft §3)', async () => {
  const {host, s} = hostile()
  for (const id of [`http://localhost:${host.port}/good.json`, `${host.base}/`, `${host.base}/a/../good.json`, `${host.base}/a/%2e%2e/good.json`, `https://user@localhost:${host.port}/good.json`]) {
    const r = await authorize(s.issuer, {response_type: 'code', client_id: id, redirect_uri: 'http://localhost:5123/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256'})
    assert.equal(r.status, 400, id)
    assert.equal(r.location, undefined, id)
  }
})
