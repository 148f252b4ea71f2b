// Names on the command line mean the owner's clients first (issue 11, item 27). Anyone may
// register a client under any name (RFC 7591 §2: client_name is the client's own claim), so a
// registration named like a CLI client must not block nor redirect `oauth-revoke-client NAME`;
// registered clients are matched by name only when no owner-created client has it, and are
// marked wherever they are shown. The real executables, a real daemon's /oauth/register.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

const exitCodes = {CONFLICT: 5}

test('an anonymous registration named like a CLI client does not block revocation by name; registered ones are marked and matched only when no owner client has the name', async (t) => {
  const dataDir = tempDir(t)
  const made = await runBin('oauth-generate-client', ['--name', 'victim', '--json'], {dataDir})
  assert.equal(made.code, 0, made.stderr)
  const victim = JSON.parse(made.stdout) as {client_id: string}

  const s = await startInProcess(t, {dataDir})
  const squatters: string[] = []
  for (let i = 0; i < 2; i++) {
    const r = await register(s.issuer, {client_name: 'victim', redirect_uris: ['https://attacker.example/cb'], token_endpoint_auth_method: 'none'})
    assert.equal(r.status, 201)
    squatters.push(String(r.body.client_id))
  }

  // The list marks the registered ones (human) and says how each came to be (JSON).
  const table = await runBin('oauth-list-clients', [], {dataDir})
  assert.equal(table.code, 0, table.stderr)
  assert.equal(table.stdout.match(/\(registered\)/g)?.length, 2)
  const listed = JSON.parse((await runBin('oauth-list-clients', ['--json'], {dataDir})).stdout) as Array<{client_id: string; registration: string}>
  assert.deepEqual(listed.filter((c) => c.registration === 'dynamic').map((c) => c.client_id).sort(), [...squatters].sort())

  // By name: the owner's client, despite two registrations with the same name.
  const revoked = await runBin('oauth-revoke-client', ['victim', '--yes', '--json'], {dataDir})
  assert.equal(revoked.code, 0, revoked.stderr)
  assert.equal((JSON.parse(revoked.stdout) as {client_id: string}).client_id, victim.client_id)
  for (const id of squatters) assert.equal((await s.store.clients.findById(id))!.revokedAt, null, 'the registered ones are untouched')

  // With no owner client of that name left, two registered ones are ambiguous: exit 5, ids marked.
  const ambiguous = await runBin('oauth-revoke-client', ['victim', '--yes'], {dataDir})
  assert.equal(ambiguous.code, exitCodes.CONFLICT)
  for (const id of squatters) assert.ok(ambiguous.stderr.includes(`${id} [registered]`), ambiguous.stderr)

  // One registered one left: revoked by name, and the output says it was a registered client.
  assert.equal((await runBin('oauth-revoke-client', ['--client-id', squatters[0]!, '--yes'], {dataDir})).code, 0)
  const last = await runBin('oauth-revoke-client', ['victim', '--yes'], {dataDir})
  assert.equal(last.code, 0, last.stderr)
  assert.match(last.stdout, new RegExp(`Revoked victim \\(registered, ${squatters[1]}\\)`))
})

test('`consents revoke NAME` also means the owner-created client when a registered one with consents shares its name', async (t) => {
  const dataDir = tempDir(t)
  const made = await runBin('oauth-generate-client', ['--name', 'ide', '--grant-type', 'authorization_code', '--redirect-uri', 'http://127.0.0.1/cb', '--auth-method', 'none', '--json'], {dataDir})
  assert.equal(made.code, 0, made.stderr)
  const own = (JSON.parse(made.stdout) as {client_id: string}).client_id
  const s = await startInProcess(t, {dataDir})
  const r = await register(s.issuer, {client_name: 'ide', redirect_uris: ['https://attacker.example/cb'], token_endpoint_auth_method: 'none'})
  const squatter = String(r.body.client_id)
  for (const clientId of [own, squatter]) await s.store.consents.remember({clientId, subject: 'owner', scopes: ['mcp'], at: s.clock.now()})
  const out = await runBin('run', ['consents', 'revoke', 'ide', '--json'], {dataDir})
  assert.equal(out.code, 0, out.stderr)
  assert.equal((JSON.parse(out.stdout) as {client_id: string}).client_id, own)
  assert.equal((await s.store.consents.active(squatter, 'owner')).length, 1)
})
