import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {resolveDataDir} from '../../config/paths.js'
import {rotateSigningKey} from '../../oauth/keys/generate.js'
import {openKeyStorage} from '../../oauth/keys/key-vaults.js'

export default class KeysRotate extends BaseCommand {
  static override summary = 'Make a new signing key: it signs at once; old keys verify until their tokens expire.'
  static override description = 'A running daemon picks the new key up on its next request, without a restart.'
  static override examples = ['<%= config.bin %> keys rotate']
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(KeysRotate)
    const store = await this.openStore(flags)
    const {preferred: vault, describe} = await openKeyStorage({
      store,
      dataDir: resolveDataDir(flags['data-dir']),
      shared: Boolean(flags['database-url']),
      keyEncryptionKeyFile: flags['key-encryption-key-file'],
    })
    if (describe.notice) this.notice(describe.notice)
    const key = await rotateSigningKey({store, vault, clock: this.clock})
    await store.audit.append([{time: key.createdAt, event: 'keys.rotated', clientId: null, method: 'cli', outcome: 'ok', detail: {kid: key.kid}}])
    if (flags.json) return this.printJson({kid: key.kid, alg: key.alg, private_key_store: key.privateKeyStore, created_at: new Date(key.createdAt).toISOString()})
    this.log(`${this.colors.green('✔')} New signing key ${key.kid} (${key.alg}), private part in ${vault.kind === 'keychain' ? 'the OS keychain' : vault.kind === 'database' ? 'the database, sealed' : vault.location}.`)
  }
}
