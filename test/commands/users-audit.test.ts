// User administration is audited where it happens (issue 17): each `gatehouse users ...` and
// `owner set-password` records one event, with `method` saying where (cli) and `subject` who
// (cli:<OS user>), read back through `gatehouse audit --json`. The real executables on one data dir.
import assert from 'node:assert/strict'
import {userInfo} from 'node:os'
import {test} from 'node:test'
import {runBin} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

type Row = {event: string; method: string; subject: string; client_id: string | null; detail: Record<string, unknown>}

test('users add/link/disable/enable/remove, owner set-password and client creation/revocation from the CLI: one audit event each, method cli, the OS user as actor', async (t) => {
  const dataDir = tempDir(t)
  const run = async (args: string[], input?: string) => {
    const r = await runBin('run', args, {dataDir, input})
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return r
  }
  await run(['owner', 'set-password', '--password-stdin'], 'the owner password 1\n')
  await run(['users', 'add', 'alice', '--password-stdin'], 'alice password 1234\n')
  await run(['users', 'add', 'bob', '--role', 'owner'])
  await run(['users', 'link', 'bob', '--issuer', 'https://idp.example', '--subject', 'bob-sub'])
  await run(['users', 'disable', 'alice'])
  await run(['users', 'enable', 'alice'])
  await run(['users', 'remove', 'bob'])
  const client = JSON.parse((await run(['oauth-generate-client', '--name', 'audited', '--json'])).stdout) as {client_id: string}
  await run(['oauth-revoke-client', 'audited', '--yes'])
  // Refused commands change nothing and record nothing.
  assert.notEqual((await runBin('run', ['users', 'disable', 'nobody'], {dataDir})).code, 0)
  assert.notEqual((await runBin('run', ['users', 'add', 'alice'], {dataDir})).code, 0)

  const rows = JSON.parse((await run(['audit', '--json'])).stdout) as Row[]
  const admin = rows.filter((r) => /^(user|owner|client)\./.test(r.event))
  const me = userInfo().username
  assert.deepEqual(
    admin.map((r) => [r.event, r.detail.user_name ?? r.client_id]).sort(),
    [
      ['client.created', client.client_id],
      ['client.revoked', client.client_id],
      ['owner.password_set', 'owner'],
      ['user.created', 'alice'],
      ['user.created', 'bob'],
      ['user.disabled', 'alice'],
      ['user.enabled', 'alice'],
      ['user.linked', 'bob'],
      ['user.removed', 'bob'],
    ].sort(),
  )
  for (const r of admin) {
    assert.equal(r.method, 'cli', r.event)
    assert.equal(r.subject, `cli:${me}`, r.event)
    assert.equal(r.detail.by, me, r.event)
  }
  const linked = admin.find((r) => r.event === 'user.linked')!
  assert.deepEqual([linked.detail.issuer, linked.detail.upstream_subject], ['https://idp.example', 'bob-sub'])
  assert.equal(admin.find((r) => r.event === 'user.created' && r.detail.user_name === 'alice')!.detail.password, true)
  assert.ok(!JSON.stringify(admin).includes('alice password'), 'no password in the trail')
})
