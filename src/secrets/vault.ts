/** Where Gatehouse keeps secrets it must be able to read back (signing keys, saved client secrets). */
export interface SecretVault {
  /**
   * `keychain`: the OS keychain through keytar; `file`: a 0600 file in the data dir; `database`:
   * sealed (AES-256-GCM) in the shared store, for several daemons on one PostgreSQL.
   */
  readonly kind: 'keychain' | 'file' | 'database'
  /** Where the secrets are, for messages: "the OS keychain" or the file's path. */
  readonly location: string
  get(account: string): Promise<string | null>
  set(account: string, value: string): Promise<void>
  delete(account: string): Promise<boolean>
}

/** The keychain service name every Gatehouse secret is filed under. */
export const KEYCHAIN_SERVICE = 'gatehouse'
