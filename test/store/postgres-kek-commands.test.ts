/**
 * A wrong key-encryption key is refused by every command that opens the PostgreSQL store, the
 * way the daemon refuses it: exit 14 (src/errors.ts KEY_ENCRYPTION), one line naming the
 * problem, and nothing written (no client, no user, no audit event, no revocation). One check,
 * where the store is opened (src/store/open-store.ts). Real PostgreSQL; the real executables.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test, type TestContext} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {tempDir} from '../helpers/tmp.js'

let pg: PostgresServer
before(async () => {
  pg = await startPostgres()
})
after(async () => {
  await pg?.stop()
})

function kekFile(t: TestContext, text = randomBytes(32).toString('base64') + '\n'): string {
  const file = join(tempDir(t), 'kek')
  writeFileSync(file, text, {mode: 0o600})
  return file
}

test('every command given another key-encryption key than the database\'s refuses with exit 14, says why, and writes nothing', async (t) => {
  const databaseUrl = await pg.database()
  const right = kekFile(t)
  const wrong = kekFile(t)
  const ok = (env: Record<string, string>) => ({dataDir: tempDir(t), env: {GATEHOUSE_DATABASE_URL: databaseUrl, ...env}})
  const withRight = ok({GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: right})
  const withWrong = ok({GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: wrong})

  // The first key to seal anything sets the database's key (keys rotate seals a signing key).
  const rotated = await runBin('run', ['keys', 'rotate', '--json'], withRight)
  assert.equal(rotated.code, 0, rotated.stderr)
  const made = await runBin('oauth-generate-client', ['--name', 'existing', '--json'], withRight)
  assert.equal(made.code, 0, made.stderr)
  const existing = (JSON.parse(made.stdout) as {client_id: string}).client_id
  const trailBefore = await runBin('run', ['audit', '--json'], withRight)
  assert.equal(trailBefore.code, 0, trailBefore.stderr)

  const commands: Array<[string, string[], string?]> = [
    ['oauth-generate-client', ['--name', 'sneaky', '--json']],
    ['oauth-list-clients', ['--json']],
    ['oauth-revoke-client', [existing, '--yes']],
    ['run', ['users', 'add', 'mallory', '--password-stdin'], 'a long enough password here'],
    ['run', ['users', 'list', '--json']],
    ['run', ['owner', 'set-password', '--password-stdin'], 'another long password here'],
    ['run', ['consents', 'list', '--json']],
    ['run', ['audit', '--json']],
    ['run', ['keys', 'list', '--json']],
    ['run', ['keys', 'rotate']],
    ['oauth-server', ['--port', '0']],
  ]
  for (const [bin, args, input] of commands) {
    const r = await runBin(bin, args, {...withWrong, ...(input !== undefined ? {input} : {})})
    const what = `${bin} ${args.join(' ')}`
    assert.equal(r.code, 14, `${what}: ${r.code} ${r.stderr}`)
    assert.match(r.stderr, /^Error: the key-encryption key does not open the secrets in postgresql 127\.0\.0\.1:\d+\/gh_\w+: this is not the key the other nodes use; give every node and command the same --key-encryption-key-file \(nothing was changed\)\n$/, what)
    assert.equal(r.stdout.includes('{'), false, `${what} printed data`)
  }
  // The same with the flag instead of the variable, as in `oauth-generate-client --database-url ...`.
  const flagged = await runBin('oauth-generate-client', ['--name', 'sneaky', '--database-url', databaseUrl, '--key-encryption-key-file', wrong], {dataDir: tempDir(t)})
  assert.equal(flagged.code, 14, flagged.stderr)

  // Nothing was written: no new client, the existing one still active, no user, no audit event.
  const list = await runBin('oauth-list-clients', ['--all', '--json'], withRight)
  assert.equal(list.code, 0, list.stderr)
  assert.deepEqual((JSON.parse(list.stdout) as Array<{name: string; status: string}>).map((c) => [c.name, c.status]), [['existing', 'active']])
  const users = await runBin('run', ['users', 'list', '--json'], withRight)
  assert.deepEqual(JSON.parse(users.stdout), [])
  const trailAfter = await runBin('run', ['audit', '--json'], withRight)
  assert.deepEqual(JSON.parse(trailAfter.stdout), JSON.parse(trailBefore.stdout))

  // A key file that is not a key at all is a configuration error (exit 11) for every command
  // alike, found before the database is even asked.
  const garbage = kekFile(t, 'not base64 at all\n')
  const bad = await runBin('oauth-list-clients', [], ok({GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: garbage}))
  assert.equal(bad.code, 11, bad.stderr)
  assert.match(bad.stderr, /must hold 32 random bytes in base64/)
  // Without a key, commands that seal nothing still work (only the daemon and keys rotate need it).
  const noKey = await runBin('oauth-list-clients', ['--json'], ok({}))
  assert.equal(noKey.code, 0, noKey.stderr)
})
