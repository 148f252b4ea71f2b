import assert from 'node:assert/strict'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import Database from 'better-sqlite3'
import {exitCodes} from '../../src/errors.js'
import {runBin} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

async function generate(dataDir: string, args: string[]) {
  const r = await runBin('oauth-generate-client', [...args, '--json'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  return JSON.parse(r.stdout) as Record<string, unknown>
}

test('generate --json prints exactly the contract document, and the secret never touches the disk', async (t) => {
  const dataDir = tempDir(t)
  const out = await generate(dataDir, ['--name', 'ci-agent', '--description', 'nightly build', '--scope', 'mcp', '--scope', 'memories:read'])
  assert.match(String(out.client_id), /^gtc_/)
  assert.match(String(out.client_secret), /^gts_[A-Za-z0-9_-]{43}$/)
  assert.equal(out.name, 'ci-agent')
  assert.equal(out.description, 'nightly build')
  assert.deepEqual(out.scopes, ['mcp', 'memories:read'])
  assert.deepEqual(out.grant_types, ['client_credentials'])
  assert.match(String(out.created_at), ISO)
  // Nothing in the data dir (database, WAL, anything else) holds the secret or any long part of it.
  const secret = String(out.client_secret)
  for (const file of readdirSync(dataDir)) {
    const bytes = readFileSync(join(dataDir, file))
    assert.equal(bytes.includes(secret), false, file)
    assert.equal(bytes.includes(secret.slice(4, 24)), false, file)
  }
})

test('human output prints the secret once with a warning and ready-to-paste settings', async (t) => {
  const dataDir = tempDir(t)
  const r = await runBin('oauth-generate-client', ['--name', 'agent', '--issuer', 'https://mcp.example.com'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  const secret = /client_secret\s+(gts_\S+)/.exec(r.stdout)?.[1]
  assert.ok(secret)
  assert.equal(r.stdout.split(secret).length - 1, 2, 'secret shown once, plus once in the curl line')
  assert.match(r.stdout, /shown only this once/)
  assert.match(r.stdout, /Token URL\s+https:\/\/mcp\.example\.com\/oauth\/token/)
  assert.match(r.stdout, /MCP URL\s+https:\/\/mcp\.example\.com\/mcp/)
  assert.match(r.stdout, /curl -s -u 'gtc_[^:]+:gts_[^']+' -d grant_type=client_credentials https:\/\/mcp\.example\.com\/oauth\/token/)
  assert.match(r.stdout, /new ClientCredentialsProvider\(/)
})

test('list shows active clients; --all adds revoked ones; --json never has a secret or hash', async (t) => {
  const dataDir = tempDir(t)
  const a = await generate(dataDir, ['--name', 'alpha'])
  const b = await generate(dataDir, ['--name', 'beta', '--scope', 'read'])
  const revoke = await runBin('oauth-revoke-client', ['--client-id', String(a.client_id), '--yes'], {dataDir})
  assert.equal(revoke.code, 0, revoke.stderr)

  const active = await runBin('oauth-list-clients', ['--json'], {dataDir})
  assert.equal(active.code, 0, active.stderr)
  const list = JSON.parse(active.stdout) as Array<Record<string, unknown>>
  assert.deepEqual(list.map((c) => c.name), ['beta'])
  const [beta] = list
  assert.deepEqual(
    Object.keys(beta!).filter((k) => ['client_id', 'name', 'description', 'scopes', 'grant_types', 'created_at', 'last_used_at', 'revoked_at', 'status'].includes(k)).length,
    9,
  )
  assert.equal(beta!.client_id, b.client_id)
  assert.equal(beta!.status, 'active')
  assert.equal(beta!.revoked_at, null)
  assert.equal(beta!.last_used_at, null)
  assert.ok(!active.stdout.includes('gts_'))
  assert.ok(!/secret|hash/i.test(Object.keys(beta!).join(' ')))

  const all = JSON.parse((await runBin('oauth-list-clients', ['--all', '--json'], {dataDir})).stdout) as Array<Record<string, unknown>>
  const alpha = all.find((c) => c.name === 'alpha')!
  assert.equal(alpha.status, 'revoked')
  assert.match(String(alpha.revoked_at), ISO)

  const table = await runBin('oauth-list-clients', ['--all'], {dataDir})
  assert.match(table.stdout, /alpha.*revoked/s)
  assert.match(table.stdout, /beta.*active/s)
})

test('revoke by positional id or unique name; records who and when; --json prints the client', async (t) => {
  const dataDir = tempDir(t)
  const a = await generate(dataDir, ['--name', 'by-id'])
  await generate(dataDir, ['--name', 'by-name'])
  const byId = await runBin('oauth-revoke-client', [String(a.client_id), '--yes', '--json'], {dataDir})
  assert.equal(byId.code, 0, byId.stderr)
  assert.equal(JSON.parse(byId.stdout).status, 'revoked')
  // Without a terminal and without --yes: refused, naming the flag, nothing revoked (CONTRACT.md).
  const unconfirmed = await runBin('oauth-revoke-client', ['by-name', '--reason', 'laptop lost'], {dataDir})
  assert.equal(unconfirmed.code, exitCodes.NEEDS_INPUT, unconfirmed.stderr)
  assert.match(unconfirmed.stderr, /--yes/)
  const stillActive = await runBin('oauth-list-clients', ['--json'], {dataDir})
  assert.equal((JSON.parse(stillActive.stdout) as Array<{name: string; status: string}>).find((c) => c.name === 'by-name')?.status, 'active')
  const byName = await runBin('oauth-revoke-client', ['by-name', '--reason', 'laptop lost', '--yes'], {dataDir})
  assert.equal(byName.code, 0, byName.stderr)
  const db = new Database(join(dataDir, 'gatehouse.db'), {readonly: true})
  const rows = db.prepare('SELECT name, revoked_by, revoked_reason, revoked_at FROM clients ORDER BY name').all() as Array<Record<string, unknown>>
  db.close()
  assert.equal(rows.length, 2, 'revocation never deletes')
  assert.match(String(rows[0]!.revoked_by), /^cli:/)
  assert.equal(rows[1]!.revoked_reason, 'laptop lost')
  const again = await runBin('oauth-revoke-client', [String(a.client_id)], {dataDir})
  assert.equal(again.code, exitCodes.CONFLICT)
  assert.match(again.stderr, /already revoked/)
})

test('bad input: one line on stderr, a distinct exit code, nothing written', async (t) => {
  const dataDir = tempDir(t)
  await generate(dataDir, ['--name', 'taken'])
  const cases: Array<[string, string[], number, RegExp]> = [
    ['oauth-revoke-client', ['--client-id', 'gtc_unknown', '--yes'], exitCodes.NOT_FOUND, /gtc_unknown/],
    ['oauth-revoke-client', [], exitCodes.NEEDS_INPUT, /--client-id/],
    ['oauth-generate-client', ['--name', 'taken'], exitCodes.CONFLICT, /already exists/],
    ['oauth-generate-client', ['--name', ''], exitCodes.INVALID_INPUT, /empty/],
    ['oauth-generate-client', ['--name', 'x'.repeat(101)], exitCodes.INVALID_INPUT, /longer than 100/],
    ['oauth-generate-client', ['--name', 'q', '--scope', 'bad"scope'], exitCodes.INVALID_INPUT, /invalid scope/],
    ['oauth-generate-client', ['--name', 'q', '--token-ttl', 'forever'], exitCodes.INVALID_INPUT, /token lifetime/],
    ['oauth-generate-client', ['--name', 'q', '--grant-type', 'authorization_code'], exitCodes.INVALID_INPUT, /redirect-uri/],
    ['oauth-generate-client', ['--name', 'q', '--grant-type', 'authorization_code', '--redirect-uri', 'javascript:alert(1)'], exitCodes.INVALID_INPUT, /javascript/],
    ['oauth-generate-client', ['--name', 'q', '--auth-method', 'private_key_jwt'], exitCodes.INVALID_INPUT, /public key/],
    ['oauth-generate-client', [], exitCodes.NEEDS_INPUT, /--name/],
    ['oauth-generate-client', ['--name', 'q', '--save-to-keychain'], exitCodes.KEYCHAIN, /nothing was created/],
  ]
  for (const [bin, args, code, message] of cases) {
    const r = await runBin(bin, args, {dataDir})
    assert.equal(r.code, code, `${bin} ${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
    assert.doesNotMatch(r.stderr, /\s+at\s+\S+\s+\(/, 'no stack trace')
    assert.equal(r.stdout, '')
  }
  const list = JSON.parse((await runBin('oauth-list-clients', ['--all', '--json'], {dataDir})).stdout) as unknown[]
  assert.equal(list.length, 1, 'nothing was written by the failures')
})

test('an unusable or newer data dir fails with one line and its own exit code', async (t) => {
  const base = tempDir(t)
  const file = join(base, 'file')
  writeFileSync(file, '')
  const unusable = await runBin('oauth-list-clients', [], {dataDir: join(file, 'sub')})
  assert.equal(unusable.code, exitCodes.STORAGE)
  assert.match(unusable.stderr, /cannot use data dir .*file\/sub/)

  const corrupt = join(base, 'corrupt')
  await runBin('oauth-list-clients', [], {dataDir: corrupt})
  writeFileSync(join(corrupt, 'gatehouse.db'), 'garbage'.repeat(1000))
  const damaged = await runBin('oauth-list-clients', ['--json'], {dataDir: corrupt})
  assert.equal(damaged.code, exitCodes.STORAGE)
  assert.match(damaged.stderr, /damaged/)
  assert.equal(damaged.stdout, '')

  const newer = join(base, 'newer')
  await runBin('oauth-list-clients', [], {dataDir: newer})
  const db = new Database(join(newer, 'gatehouse.db'))
  db.prepare('INSERT INTO migrations VALUES (999, ?, 0)').run('future')
  db.close()
  const refused = await runBin('oauth-generate-client', ['--name', 'x'], {dataDir: newer})
  assert.equal(refused.code, exitCodes.SCHEMA_TOO_NEW)
  assert.match(refused.stderr, /upgrade gatehouse/)
})

test('the data dir comes from --data-dir, then GATEHOUSE_DATA_DIR', async (t) => {
  const envDir = tempDir(t)
  const flagDir = tempDir(t)
  await generate(envDir, ['--name', 'in-env'])
  const r = await runBin('oauth-list-clients', ['--json', '--data-dir', flagDir], {dataDir: envDir})
  assert.deepEqual(JSON.parse(r.stdout), [])
})
