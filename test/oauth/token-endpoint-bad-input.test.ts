import assert from 'node:assert/strict'
import {test} from 'node:test'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const form = 'application/x-www-form-urlencoded'

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {method: 'POST', headers: {'Content-Type': form, ...headers}, body})
  const text = await res.text()
  return {status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, string>) : {}}
}

test('bad token requests get the standard error and issue nothing (client authentication attacks: test/security/client-auth.test.ts)', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'agent', scopes: ['mcp', 'read']})
  const codeOnly = await s.client({name: 'web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb']})
  const token = `${s.issuer}/oauth/token`
  const auth = {Authorization: basic(agent.client_id, agent.client_secret)}
  const cc = 'grant_type=client_credentials'
  const cases: Array<[string, Promise<{status: number; body: Record<string, string>; headers: Headers}>, number, string]> = [
    ['missing grant_type', post(token, 'scope=mcp', auth), 400, 'invalid_request'],
    ['unknown grant_type', post(token, 'grant_type=password&username=a&password=b', auth), 400, 'unsupported_grant_type'],
    ['repeated parameter', post(token, `${cc}&scope=mcp&scope=read`, auth), 400, 'invalid_request'],
    ['two resources', post(token, `${cc}&resource=${s.issuer}/mcp&resource=${s.issuer}/mcp`, auth), 400, 'invalid_target'],
    ['malformed JSON', post(token, '{"grant_type":', {...auth, 'Content-Type': 'application/json'}), 400, 'invalid_request'],
    ['JSON array', post(token, '["grant_type"]', {...auth, 'Content-Type': 'application/json'}), 400, 'invalid_request'],
    ['wrong content type', post(token, cc, {...auth, 'Content-Type': 'text/plain'}), 400, 'invalid_request'],
    ['scope the client may not have', post(token, `${cc}&scope=admin`, auth), 400, 'invalid_scope'],
    ['malformed scope', post(token, `${cc}&scope=%22quoted%22`, auth), 400, 'invalid_scope'],
    ['resource not served here', post(token, `${cc}&resource=https://elsewhere.example/mcp`, auth), 400, 'invalid_target'],
    ['resource with fragment', post(token, `${cc}&resource=${encodeURIComponent(`${s.issuer}/mcp#x`)}`, auth), 400, 'invalid_target'],
    ['grant the client may not use', post(token, cc, {Authorization: basic(codeOnly.client_id, codeOnly.client_secret)}), 400, 'unauthorized_client'],
  ]
  for (const [name, pending, status, error] of cases) {
    const r = await pending
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.error, error, name)
    assert.equal(typeof r.body.error_description, 'string', name)
    assert.equal(r.headers.get('cache-control'), 'no-store', name)
    assert.equal(r.body.access_token, undefined, name)
  }
  // JSON bodies are accepted, as CONTRACT.md says.
  const json = await post(token, JSON.stringify({grant_type: 'client_credentials', scope: 'read'}), {...auth, 'Content-Type': 'application/json'})
  assert.equal(json.status, 200)
  assert.equal(json.body.scope, 'read')
  // The daemon is still serving after all that.
  assert.ok(await fetchToken(s.issuer, agent))
})
