import Table from 'cli-table3'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'

export default class KeysList extends BaseCommand {
  static override summary = 'List the token signing keys: the active one and retired ones that still verify.'
  static override examples = ['<%= config.bin %> keys list', '<%= config.bin %> keys list --json']
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(KeysList)
    const keys = await (await this.openStore(flags)).signingKeys.list()
    const now = this.clock.now()
    const rows = keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.retiredAt === null ? 'active' : k.verifyUntil !== null && k.verifyUntil > now ? 'retired' : 'expired',
      private_key_store: k.privateKeyStore,
      created_at: new Date(k.createdAt).toISOString(),
      retired_at: k.retiredAt === null ? null : new Date(k.retiredAt).toISOString(),
      verifies_until: k.verifyUntil === null ? null : new Date(k.verifyUntil).toISOString(),
    }))
    if (flags.json) return this.printJson(rows)
    if (rows.length === 0) {
      this.log('No signing keys yet: the daemon makes one at first start (or run `gatehouse keys rotate`).')
      return
    }
    const c = this.colors
    const table = new Table({head: ['Key id', 'Alg', 'Status', 'Private key', 'Created', 'Verifies until'].map((h) => c.bold(h)), style: {head: [], border: []}})
    for (const r of rows) table.push([terminalText(r.kid), terminalText(r.alg), r.status === 'active' ? c.green(r.status) : r.status, r.private_key_store, r.created_at, r.verifies_until ?? '-'])
    this.log(table.toString())
  }
}
