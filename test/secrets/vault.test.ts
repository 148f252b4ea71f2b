import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {GatehouseError} from '../../src/errors.js'
import {createFileVault} from '../../src/secrets/file-vault.js'
import {repoRoot} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const roundtrip = join(repoRoot, 'test', 'fixtures', 'vault-roundtrip.ts')

test('file vault: 0600, atomic replace, round trip, clear error when damaged', async (t) => {
  const dir = tempDir(t)
  const vault = createFileVault(dir)
  assert.equal(await vault.get('k'), null)
  await vault.set('k', 'v1')
  await vault.set('other', 'v2')
  assert.equal(await vault.get('k'), 'v1')
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600)
  assert.equal(await vault.delete('k'), true)
  assert.equal(await vault.delete('k'), false)
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')), {other: 'v2'})
  writeFileSync(join(dir, 'secrets.json'), '{half')
  await assert.rejects(vault.get('other'), (e: unknown) => e instanceof GatehouseError && e.code === 'STORAGE' && /damaged/.test(e.message))
})

test('without a keychain the vault falls back to the 0600 file, with a one-line notice', (t) => {
  const dir = tempDir(t)
  // No D-Bus session bus in this environment: keytar loads (or not) but nothing answers.
  const env = {...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', DISPLAY: ''}
  const out = execFileSync(process.execPath, ['--import', 'tsx', roundtrip, dir], {env, cwd: repoRoot, encoding: 'utf8'})
  const r = JSON.parse(out) as {kind: string; notice: string; read: string; deleted: boolean; after: null}
  assert.equal(r.kind, 'file')
  assert.match(r.notice, /^no OS keychain: .*; keeping secrets in .*secrets\.json \(mode 0600\)$/)
  assert.equal(r.notice.split('\n').length, 1)
  assert.equal(r.read, 'secret-value')
  assert.equal(r.deleted, true)
  assert.equal(r.after, null)
})

const haveSecretService =
  spawnSync('sh', ['-c', 'command -v dbus-run-session && command -v gnome-keyring-daemon']).status === 0
let haveKeytar = true
try {
  await import('keytar')
} catch {
  haveKeytar = false
}

test(
  'with a real Secret Service (gnome-keyring under dbus-run-session) secrets go to the OS keychain',
  {skip: !haveSecretService ? 'gnome-keyring or dbus-run-session not installed' : !haveKeytar ? 'keytar not built (libsecret-1-dev missing)' : false},
  (t) => {
    const dir = tempDir(t)
    const script = `echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$0" --import tsx "$1" "$2"`
    const out = execFileSync('dbus-run-session', ['--', 'sh', '-c', script, process.execPath, roundtrip, dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      // A fresh HOME: gnome-keyring creates a new login keyring there, unlocked by the password.
      env: {...process.env, GATEHOUSE_NO_KEYCHAIN: '', HOME: dir, XDG_DATA_HOME: dir},
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const r = JSON.parse(out) as {kind: string; notice: string | null; read: string; deleted: boolean; after: null}
    assert.equal(r.kind, 'keychain')
    assert.equal(r.notice, null)
    assert.equal(r.read, 'secret-value')
    assert.equal(r.deleted, true)
    assert.equal(r.after, null)
    assert.throws(() => statSync(join(dir, 'secrets.json')), /ENOENT/)
  },
)

test(
  'a locked keychain that would prompt is detected without crashing, and the file is used',
  {skip: !haveSecretService || !haveKeytar ? 'no Secret Service or keytar here' : false},
  (t) => {
    const dir = tempDir(t)
    // Create the keyring with one password, then start a new session unlocking with another:
    // the collection stays locked and libsecret wants a prompter that cannot open a display.
    const unlock = (pw: string) => `echo -n ${pw} | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;`
    const env = {...process.env, GATEHOUSE_NO_KEYCHAIN: '', HOME: dir, XDG_DATA_HOME: dir, DISPLAY: ''}
    const run = (pw: string) =>
      execFileSync('dbus-run-session', ['--', 'sh', '-c', `${unlock(pw)} exec "$0" --import tsx "$1" "$2"`, process.execPath, roundtrip, dir], {
        cwd: repoRoot,
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    assert.equal(JSON.parse(run('first')).kind, 'keychain')
    const r = JSON.parse(run('second')) as {kind: string; notice: string}
    assert.equal(r.kind, 'file')
    assert.match(r.notice, /no OS keychain/)
  },
)
