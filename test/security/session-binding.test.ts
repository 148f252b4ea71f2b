/**
 * An MCP session is bound to the person as well as the client (issue 17). One client id can
 * serve many people (a shared confidential client, a client ID metadata document such as
 * claude.ai's), so Bob's valid token with Alice's session id must not reach Alice's session:
 * MCP 2026-07-28 security best practices ("bind handles server-side to the authenticated user ...
 * and reject a handle presented by any other principal"); 2025-11-25 §Session Hijacking.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {consentBrowser} from '../helpers/consent-browser.js'
import {pkce, token} from '../helpers/interactive.js'
import {mcpPost, openSession, PROTOCOL_VERSION} from '../helpers/mcp-raw.js'
import {startInProcess} from '../helpers/server.js'

const WEB = 'https://app.example/cb'

test('Bob\'s token with Alice\'s session id (same client) is "session not found"; Alice\'s own works', async (t) => {
  const s = await startInProcess(t, {interactive: {autoApprove: false}, isolation: 'user'})
  const users = createUserAdmin({store: s.store, clock: s.clock})
  await users.add({name: 'alice', password: 'alice password 123'}, cliActor())
  await users.add({name: 'bob', password: 'bob password 1234'}, cliActor())
  const shared = await s.client({name: 'team app', grantTypes: ['authorization_code'], redirectUris: [WEB]})
  async function tokenFor(name: string, password: string) {
    const b = consentBrowser(s.issuer)
    const p = pkce()
    const page = await b.open({client_id: shared.client_id, redirect_uri: WEB, code_challenge: p.challenge})
    const answer = await b.decide(page, {decision: 'approve', username: name, password})
    const r = await token(s.issuer, {grant_type: 'authorization_code', code: answer.location!.searchParams.get('code')!, redirect_uri: WEB, code_verifier: p.verifier, client_id: shared.client_id, client_secret: shared.client_secret})
    return r.body.access_token!
  }
  const aliceToken = await tokenFor('alice', 'alice password 123')
  const bobToken = await tokenFor('bob', 'bob password 1234')
  const mcp = `${s.issuer}/mcp`
  const alice = await openSession(mcp, aliceToken)
  t.after(() => alice.close().catch(() => {}))
  const list = (authorization: string) => mcpPost(mcp, {jsonrpc: '2.0', id: 7, method: 'tools/list'}, {authorization, 'mcp-session-id': alice.headers['mcp-session-id']!, 'mcp-protocol-version': PROTOCOL_VERSION})
  const hijack = await list(`Bearer ${bobToken}`)
  assert.equal(hijack.status, 404, 'another person\'s session is not found')
  await hijack.arrayBuffer()
  const own = await list(`Bearer ${aliceToken}`)
  assert.equal(own.status, 200)
  await own.arrayBuffer()
})
