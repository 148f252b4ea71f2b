import assert from 'node:assert/strict'
import {test} from 'node:test'
import {authorize, pkce, token} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'
import {hostileHost} from '../helpers/metadata-host.js'

test('client ID metadata documents: a good one is used and cached; a wrong redirect URI gets the error page (CIMD draft §4; hostile documents: test/security/registration-ssrf.test.ts)', async (t) => {
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
})
