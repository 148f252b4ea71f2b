// Audit completeness (issue 12 item 6): a refused request names its client wherever the client is
// known, and a token refused at /mcp is in the audit trail. Rules: RFC 6749 §5.2 (the answer still
// says nothing about whether the client exists: the id is in the owner's trail only), RFC 6750
// §3.1 (invalid_token at the resource), MCP authorization §Token Handling; CONTRACT.md (audit
// fields `client_id`, `event`, `outcome`).
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {exportJWK, generateKeyPair, SignJWT} from 'jose'
import type {AuditRecord} from '../../src/store/types.js'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'
import {generousLimits} from '../helpers/attacks.js'

const CC = 'grant_type=client_credentials'
const form = {'Content-Type': 'application/x-www-form-urlencoded'}

/** The trail's events (the daemon writes them in batches): waits until `ready` holds, 10 s at most. */
async function trail(store: {audit: {query(f: object): Promise<AuditRecord[]>}}, ready: (rows: AuditRecord[]) => boolean): Promise<AuditRecord[]> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const rows = await store.audit.query({})
    if (ready(rows) || Date.now() > deadline) return rows
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('refused token requests name the client when it is one of ours: wrong secret, revoked client, failed assertion, rate-limited; never an unknown id', async (t) => {
  const s = await startInProcess(t, {authFailures: {perClient: {burst: 2, perMinute: 1}, perAddress: {burst: 1e6, perMinute: 1e6}}})
  const agent = await s.client({name: 'agent'})
  const gone = await s.client({name: 'gone'})
  await s.admin.revoke(gone.client_id, {by: 'test'}, cliActor())
  const {publicKey} = await generateKeyPair('ES256', {extractable: true})
  const {client: signer} = await s.admin.generate({name: 'signer', authMethod: 'private_key_jwt', jwks: {keys: [await exportJWK(publicKey)]}}, cliActor())
  const tokenUrl = `${s.issuer}/oauth/token`
  const post = (body: string, headers: Record<string, string> = {}) => fetch(tokenUrl, {method: 'POST', headers: {...form, ...headers}, body})

  const wrong = await post(CC, {Authorization: basic(agent.client_id, 'gts_wrong')})
  const revoked = await post(CC, {Authorization: basic(gone.client_id, gone.client_secret)})
  const unknown = await post(CC, {Authorization: basic('gtc_nobody', 'gts_x')})
  const now = Math.floor(s.clock.now() / 1000)
  const foreign = (await generateKeyPair('ES256')).privateKey
  const badAssertion = await new SignJWT({iss: signer.id, sub: signer.id, aud: tokenUrl, jti: crypto.randomUUID(), iat: now, exp: now + 60}).setProtectedHeader({alg: 'ES256'}).sign(foreign)
  const assertion = await post(new URLSearchParams({grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: badAssertion}).toString())
  await post(CC, {Authorization: basic(agent.client_id, 'gts_wrong')})
  const limited = await post(CC, {Authorization: basic(agent.client_id, 'gts_wrong')})
  for (const r of [wrong, revoked, unknown, assertion]) assert.equal(r.status, 401)
  assert.equal(limited.status, 429)
  // The answers stay identical whether or not the client exists (RFC 6749 §5.2).
  assert.deepEqual(await wrong.json(), await unknown.json())

  const rows = (await trail(s.store, (r) => r.filter((e) => e.event === 'token.refused').length >= 6)).filter((e) => e.event === 'token.refused')
  assert.deepEqual(
    rows.map((e) => [e.clientId, e.outcome]),
    [
      [agent.client_id, 'invalid_client'],
      [gone.client_id, 'invalid_client'],
      [null, 'invalid_client'],
      [signer.id, 'invalid_client'],
      [agent.client_id, 'invalid_client'],
      [agent.client_id, 'rate_limited'],
    ],
  )
})

test('a revoked client\'s token at /mcp: 401 invalid_token, and a token.refused event naming the client; a token that does not verify is recorded without one; no token is discovery, not recorded (RFC 6750 §3.1)', async (t) => {
  const s = await startInProcess(t, generousLimits)
  const agent = await s.client({name: 'agent'})
  const token = await fetchToken(s.issuer, agent)
  const mcp = (authorization?: string) =>
    fetch(`${s.issuer}/mcp`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(authorization ? {Authorization: authorization} : {})},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 't', version: '1'}}}),
    })
  await s.admin.revoke(agent.client_id, {by: 'test'}, cliActor())
  const refused = await mcp(`Bearer ${token}`)
  assert.equal(refused.status, 401)
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  assert.equal((await mcp('Bearer not.a.token')).status, 401)
  assert.equal((await mcp()).status, 401)

  const rows = (await trail(s.store, (r) => r.filter((e) => e.event === 'token.refused').length >= 2)).filter((e) => e.event === 'token.refused')
  assert.equal(rows.length, 2, JSON.stringify(rows))
  assert.equal(rows[0]!.clientId, agent.client_id)
  assert.equal(rows[0]!.outcome, 'invalid_token')
  assert.equal(rows[0]!.method, 'bearer')
  assert.deepEqual(rows[0]!.detail, {endpoint: '/mcp', reason: 'the client was revoked'})
  assert.equal(rows[1]!.clientId, null)
  assert.equal(rows[1]!.outcome, 'invalid_token')
  // Nothing secret in the trail: not the token.
  assert.ok(!JSON.stringify(rows).includes(token))
})
