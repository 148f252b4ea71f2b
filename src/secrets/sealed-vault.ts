import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {GatehouseError} from '../errors.js'
import type {SecretRepository} from '../store/types.js'
import type {SecretVault} from './vault.js'

/** The key-encryption key: 32 random bytes, given to every node as base64 in a file. */
export const KEK_BYTES = 32

/** Seal format version, first in every sealed value: lets a later format stand beside this one. */
const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

/** Known plaintext sealed under the key-encryption key, so a wrong key is caught before it seals anything. */
const CHECK_ACCOUNT = 'key-encryption-key-check'
const CHECK_PLAINTEXT = 'gatehouse key-encryption key check'

/**
 * Reads the key-encryption key from a file holding its base64 (e.g. `openssl rand -base64 32 >
 * kek`; whitespace around it is ignored). Errors: CONFIG when the file cannot be read or does not
 * hold exactly 32 bytes.
 */
export function readKeyEncryptionKey(file: string): Buffer {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new GatehouseError('CONFIG', `cannot read the key-encryption key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0)
  if (key.length !== KEK_BYTES) {
    throw new GatehouseError('CONFIG', `the key-encryption key file ${file} must hold ${KEK_BYTES} random bytes in base64 (make one with: openssl rand -base64 32)`)
  }
  return key
}

/** AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV; the account name is the additional data, so a sealed value cannot be moved to another account. */
export function seal(kek: Buffer, account: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', kek, iv, {authTagLength: TAG_BYTES})
  cipher.setAAD(Buffer.from(account, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
}

/** Opens a sealed value; throws KEY_ENCRYPTION when the key (or the account) is not the one it was sealed with. */
export function unseal(kek: Buffer, account: string, sealed: string): string {
  const [version, payload] = sealed.split('.', 2)
  const raw = version === VERSION && payload ? Buffer.from(payload, 'base64url') : Buffer.alloc(0)
  if (raw.length < IV_BYTES + TAG_BYTES) throw new GatehouseError('KEY_ENCRYPTION', `the sealed secret ${account} is damaged or of an unknown format`)
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, IV_BYTES), {authTagLength: TAG_BYTES})
    decipher.setAAD(Buffer.from(account, 'utf8'))
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    throw new GatehouseError(
      'KEY_ENCRYPTION',
      `the key-encryption key does not open the secrets in the database (${account}): this is not the key the other nodes use; give every node the same --key-encryption-key-file`,
    )
  }
}

/**
 * The one check of a key-encryption key against a store: it must open the known plaintext the
 * first node sealed there. Reads only. `verified` when it does; `unset` when nothing has been
 * sealed in this store yet (any key is right until then: the first to seal sets it). Throws
 * GatehouseError KEY_ENCRYPTION (exit 14) naming the problem when it is another key, or the check
 * value is damaged. `where` names the store for the message (host:port/db, no credentials).
 *
 * Called where the store is opened (src/store/open-store.ts) by the daemon and every command given
 * a key, before they write anything, and by openSealedVault before it seals.
 */
export async function checkKeyEncryptionKey(secrets: Pick<SecretRepository, 'get'>, kek: Buffer, where: string): Promise<'verified' | 'unset'> {
  const check = await secrets.get(CHECK_ACCOUNT)
  if (check === undefined) return 'unset'
  let opened: string | undefined
  try {
    opened = unseal(kek, CHECK_ACCOUNT, check)
  } catch {
    opened = undefined
  }
  if (opened !== CHECK_PLAINTEXT) {
    throw new GatehouseError(
      'KEY_ENCRYPTION',
      `the key-encryption key does not open the secrets in ${where}: this is not the key the other nodes use; give every node and command the same --key-encryption-key-file (nothing was changed)`,
    )
  }
  return 'verified'
}

/**
 * Secrets sealed with the key-encryption key and kept in the store (the private parts of signing
 * keys on PostgreSQL, so that every node can sign). Opening checks the key against a known
 * plaintext sealed by the first node (writing it when there is none), so a node given the wrong
 * key refuses to start, and `keys rotate` refuses, before anything is sealed under it.
 */
export async function openSealedVault({secrets, kek, location}: {secrets: SecretRepository; kek: Buffer; location: string}): Promise<SecretVault> {
  if ((await checkKeyEncryptionKey(secrets, kek, location)) === 'unset') await secrets.set(CHECK_ACCOUNT, seal(kek, CHECK_ACCOUNT, CHECK_PLAINTEXT))
  return {
    kind: 'database',
    location,
    async get(account) {
      const sealed = await secrets.get(account)
      return sealed === undefined ? null : unseal(kek, account, sealed)
    },
    async set(account, value) {
      await secrets.set(account, seal(kek, account, value))
    },
    async delete(account) {
      const had = (await secrets.get(account)) !== undefined
      await secrets.delete(account)
      return had
    },
  }
}
