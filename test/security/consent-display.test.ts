// What a client may make the consent page say. Rules: Unicode TR36 §2.3 (bidirectional text
// spoofing) and UAX #9 §2.7 (isolates), HTML <bdi>; RFC 7591 §3.2.2 (invalid_client_metadata);
// MCP security best practices, consent UI (the page names the client and where access goes).
// Through the daemon (in-process, real HTTP) and, where rendering matters, real headless Chromium.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import Database from 'better-sqlite3'
import {databaseFile} from '../../src/config/paths.js'
import {hashPassword} from '../../src/owner/password.js'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {authorize, pkce, register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'
import {selfSignedCert, serveHttps} from '../helpers/tls.js'

const WEB = 'https://app.example/cb'
const INVISIBLE = [
  ['RIGHT-TO-LEFT OVERRIDE', '\u202E'],
  ['LEFT-TO-RIGHT EMBEDDING', '\u202A'],
  ['RIGHT-TO-LEFT ISOLATE', '\u2067'],
  ['POP DIRECTIONAL ISOLATE', '\u2069'],
  ['RIGHT-TO-LEFT MARK', '\u200F'],
  ['ARABIC LETTER MARK', '\u061C'],
  ['ZERO WIDTH SPACE', '\u200B'],
  ['BYTE ORDER MARK', '\uFEFF'],
  ['SOFT HYPHEN', '\u00AD'],
  ['NEXT LINE (C1)', '\u0085'],
  ['LINE SEPARATOR', '\u2028'],
  ['a lone surrogate', '\uD800'],
] as const

test('registration refuses control and format characters (Unicode Cc, Cf, Zl, Zp) in client_name and redirect URIs; right-to-left names are welcome (TR36 §2.3; RFC 7591 §3.2.2)', async (t) => {
  const s = await startInProcess(t, {interactive: {registrationLimit: {burst: 1e6, perMinute: 1e6}}})
  for (const [what, c] of INVISIBLE) {
    const named = await register(s.issuer, {client_name: `Notes${c} app`, redirect_uris: [WEB], token_endpoint_auth_method: 'none'})
    assert.equal(named.status, 400, what)
    assert.equal(named.body.error, 'invalid_client_metadata', what)
    assert.match(String(named.body.error_description), /client.name/, what)
    const redirect = await register(s.issuer, {client_name: 'Notes', redirect_uris: [`com.example.notes:/cb${c}x`], token_endpoint_auth_method: 'none'})
    assert.equal(redirect.status, 400, `${what} in a redirect URI`)
  }
  const before = (await s.store.clients.list({includeRevoked: true})).length
  assert.equal(before, 0, 'nothing was registered')
  const rtl = await register(s.issuer, {client_name: 'تطبيق الملاحظات', redirect_uris: [WEB], token_endpoint_auth_method: 'none'})
  assert.equal(rtl.status, 201)
})

test('a metadata-document client whose client_name carries a bidi override gets an error page, not the consent page (TR36 §2.3; CIMD draft §4)', async (t) => {
  const tls = selfSignedCert(t)
  let base = ''
  const {port} = await serveHttps(t, tls, (req, res) => {
    res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({client_id: `${base}${req.url}`, client_name: 'Docs \u202Eevil', redirect_uris: ['http://localhost/callback'], token_endpoint_auth_method: 'none'}))
  })
  base = `https://localhost:${port}`
  const s = await startInProcess(t, {interactive: {allowPrivateMetadataHosts: true, metadataDocumentCa: tls.cert}})
  const r = await authorize(s.issuer, {response_type: 'code', client_id: `${base}/client.json`, redirect_uri: 'http://localhost:5123/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256'})
  assert.equal(r.status, 400)
  assert.equal(r.location, undefined)
  assert.match(r.text, /U\+202E/)
  assert.ok(!r.text.includes('\u202E'), 'the character itself is not on the page')
  assert.ok(!r.text.includes('name="csrf_token"'), 'no consent form')
})

test('Chromium: client text on the consent page is isolated (<bdi>, unicode-bidi: isolate), and a stored name with a bidi override is shown, not obeyed (UAX #9 §2.7; TR36 §2.3)', {skip: noBrowser}, async (t) => {
  const s = await startInProcess(t)
  await s.store.owner.setPasswordHash(await hashPassword('the owner password', {params: {N: 2 ** 12, r: 8, p: 1}}), s.clock.now())
  const rtl = await register(s.issuer, {client_name: 'تطبيق 2024 (الملاحظات)', redirect_uris: [WEB], token_endpoint_auth_method: 'none'})
  // Records stored before this check may hold anything (the CLI refuses such names now, so the row is edited in SQLite).
  const old = await s.client({name: 'Docs evil gnissecorp', redirectUris: [WEB], grantTypes: ['authorization_code'], authMethod: 'none'})
  const db = new Database(databaseFile(s.dataDir))
  db.prepare('UPDATE clients SET name = ? WHERE id = ?').run('Docs \u202Eevil gnissecorp', old.client_id)
  db.close()
  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  const open = (clientId: string) =>
    page.goto(`${s.issuer}/oauth/authorize?${new URLSearchParams({response_type: 'code', client_id: clientId, redirect_uri: WEB, code_challenge: pkce().challenge, code_challenge_method: 'S256'})}`)

  assert.equal((await open(String(rtl.body.client_id)))!.status(), 200)
  // In the page (a string: this test's TypeScript has no DOM types): every element whose own text
  // is the client's name, its redirect URI or the redirect host.
  const isolation = (await page.evaluate(`(() => {
    const texts = [${JSON.stringify('تطبيق 2024 (الملاحظات)')}, 'https://app.example/cb', 'app.example']
    const holders = [...document.querySelectorAll('body *')].filter((e) => e.children.length === 0 && texts.includes(e.textContent))
    return {
      count: holders.length,
      isolated: holders.map((e) => ({tag: e.tagName, bidi: getComputedStyle(e).unicodeBidi, dir: e.getAttribute('dir')})),
      title: document.querySelector('h1').textContent,
    }
  })()`)) as {count: number; isolated: Array<{tag: string; bidi: string; dir: string}>; title: string}
  assert.ok(isolation.count >= 4, JSON.stringify(isolation))
  for (const h of isolation.isolated) {
    assert.equal(h.tag, 'BDI', JSON.stringify(h))
    assert.equal(h.bidi, 'isolate', JSON.stringify(h))
  }
  assert.equal(isolation.title, 'Allow تطبيق 2024 (الملاحظات) to use this MCP server?')

  assert.equal((await open(old.client_id))!.status(), 200)
  const text = await page.innerText('body')
  assert.ok(!text.includes('\u202E'), 'the override is not in the rendered text')
  assert.match(text, /Docs <U\+202E>evil gnissecorp/)
  assert.match(text, /This goes to a program on this computer|If you approve, access is sent to/)
})
