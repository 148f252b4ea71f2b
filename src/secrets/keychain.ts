import {spawn} from 'node:child_process'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {KEYCHAIN_SERVICE, type SecretVault} from './vault.js'

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
  deletePassword(service: string, account: string): Promise<boolean>
  findCredentials(service: string): Promise<Array<{account: string; password: string}>>
}

export type KeychainProbe = {ok: true; vault: SecretVault} | {ok: false; reason: string}

/** Bounds a keychain call: a Secret Service that never answers must not hang the CLI. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The OS keychain (macOS Keychain, Windows Credential Vault, Secret Service on Linux) through
 * keytar, an optional dependency. Answers `ok: false` with the reason when keytar is not
 * installed, its native part failed to load, or no keychain service answers.
 */
export async function probeKeychain({timeoutMs = 3000}: {timeoutMs?: number} = {}): Promise<KeychainProbe> {
  if (process.env.GATEHOUSE_NO_KEYCHAIN) return {ok: false, reason: 'GATEHOUSE_NO_KEYCHAIN is set'}
  let keytar: Keytar
  try {
    // On Linux, libsecret may try to show an unlock prompt; with no display that can take the
    // whole process down (seen: SIGSEGV with a locked gnome-keyring). Ask once from a throwaway
    // process first, so only that one dies; and only then load keytar (and libsecret, glib,
    // D-Bus) here, so a machine without a keychain never carries them.
    if (process.platform === 'linux') await within(timeoutMs, probeInChild())
  } catch (error) {
    return {ok: false, reason: `the OS keychain did not answer (${firstLine(error)})`}
  }
  try {
    // The specifier is a variable so that the build never needs keytar's files or types: keytar
    // is optional and is dropped by npm where libsecret's headers are missing (issue: first run).
    const specifier: string = 'keytar'
    const mod = (await import(specifier)) as {default?: Keytar} & Keytar
    keytar = mod.default ?? mod
  } catch (error) {
    return {ok: false, reason: `keytar is not available (${firstLine(error)})`}
  }
  try {
    await within(timeoutMs, keytar.findCredentials(KEYCHAIN_SERVICE))
  } catch (error) {
    return {ok: false, reason: `the OS keychain did not answer (${firstLine(error)})`}
  }
  const call = <T>(work: Promise<T>) => within(timeoutMs, work)
  return {
    ok: true,
    vault: {
      kind: 'keychain',
      location: 'the OS keychain',
      get: (account) => call(keytar.getPassword(KEYCHAIN_SERVICE, account)),
      set: (account, value) => call(keytar.setPassword(KEYCHAIN_SERVICE, account, value)),
      delete: (account) => call(keytar.deletePassword(KEYCHAIN_SERVICE, account)),
    },
  }
}

function probeInChild(): Promise<void> {
  // Writes and deletes a probe entry: a locked collection answers searches but refuses writes.
  const service = JSON.stringify(KEYCHAIN_SERVICE)
  const script = `const k = await import('keytar').then((m) => m.default ?? m, () => process.exit(2))
    try { await k.setPassword(${service}, '.probe', '1'); await k.deletePassword(${service}, '.probe'); process.exit(0) }
    catch { process.exit(3) }`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dirname(fileURLToPath(import.meta.url)),
      stdio: 'ignore',
    })
    child.on('error', reject)
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(signal ? `keychain probe died of ${signal}` : code === 2 ? 'keytar is not installed or its native part does not load' : 'no Secret Service, or it is locked')),
    )
  })
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]
