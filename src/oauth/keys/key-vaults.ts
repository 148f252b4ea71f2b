import {GatehouseError} from '../../errors.js'
import {createFileVault} from '../../secrets/file-vault.js'
import {probeKeychain} from '../../secrets/keychain.js'
import {openSealedVault, readKeyEncryptionKey} from '../../secrets/sealed-vault.js'
import type {SecretVault} from '../../secrets/vault.js'
import type {SigningKeyRecord, Store} from '../../store/types.js'

export type KeyVaults = Partial<Record<SigningKeyRecord['privateKeyStore'], SecretVault>>

export interface KeyStorage {
  vaults: KeyVaults
  /** Where new signing keys' private parts go. */
  preferred: SecretVault
  /** For the start banner: where, and the one-line notice when that is a fallback. */
  describe: {kind: SecretVault['kind']; location: string; notice: string | null}
}

/**
 * Where the private parts of signing keys are kept. On a store shared by several nodes
 * (PostgreSQL) every node must sign with the same keys: they are sealed with the key-encryption
 * key into the store itself, and without that key nothing starts (CONFIG), with a wrong one
 * neither (KEY_ENCRYPTION). On SQLite: the OS keychain where one works, else the 0600 file.
 */
export async function openKeyStorage({
  store,
  dataDir,
  shared,
  keyEncryptionKeyFile,
  useKeychain = true,
}: {
  store: Store
  dataDir: string
  shared: boolean
  keyEncryptionKeyFile?: string | undefined
  useKeychain?: boolean | undefined
}): Promise<KeyStorage> {
  const fileVault = createFileVault(dataDir)
  if (shared) {
    if (!keyEncryptionKeyFile) {
      throw new GatehouseError(
        'CONFIG',
        'a shared database (--database-url) needs --key-encryption-key-file (or GATEHOUSE_KEY_ENCRYPTION_KEY_FILE): the same 32-byte key, base64, on every node (make one with: openssl rand -base64 32)',
      )
    }
    const sealed = await openSealedVault({secrets: store.secrets, kek: readKeyEncryptionKey(keyEncryptionKeyFile), location: `${store.describe()} (sealed)`})
    return {vaults: {database: sealed, file: fileVault}, preferred: sealed, describe: {kind: 'database', location: sealed.location, notice: null}}
  }
  const keychain = useKeychain === false ? {ok: false as const, reason: 'disabled'} : await probeKeychain()
  const preferred = keychain.ok ? keychain.vault : fileVault
  return {
    vaults: {file: fileVault, ...(keychain.ok ? {keychain: keychain.vault} : {})},
    preferred,
    describe: {
      kind: preferred.kind,
      location: preferred.location,
      notice: keychain.ok ? null : `${keychain.reason}; signing keys are kept in ${fileVault.location} (mode 0600)`,
    },
  }
}
