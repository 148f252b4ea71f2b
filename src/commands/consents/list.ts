import {Flags} from '@oclif/core'
import Table from 'cli-table3'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {createConsentAdmin} from '../../owner/consents.js'
import {terminalText} from '../../cli/terminal-text.js'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export default class ConsentsList extends BaseCommand {
  static override summary = "List remembered approvals of interactive clients: everyone's, or one person's with --user."
  static override examples = ['<%= config.bin %> consents list', '<%= config.bin %> consents list --all --json', '<%= config.bin %> consents list --user alice']
  static override flags = {
    all: Flags.boolean({description: 'Include revoked consents.', default: false}),
    user: Flags.string({description: 'Only this person\'s consents (user name or id).'}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ConsentsList)
    const consents = await createConsentAdmin({store: await this.openStore(flags), clock: this.clock}).list({includeRevoked: flags.all, user: flags.user})
    if (flags.json) {
      return this.printJson(
        consents.map((c) => ({user_id: c.subject, user_name: c.userName, client_id: c.clientId, client_name: c.clientName, registration: c.registration, scopes: c.scopes, created_at: iso(c.createdAt), revoked_at: iso(c.revokedAt), status: c.revokedAt === null ? 'active' : 'revoked'})),
      )
    }
    if (consents.length === 0) return this.log('No consents.')
    const c = this.colors
    const table = new Table({head: ['User', 'Client', 'Client ID', 'Scopes', 'Approved (UTC)', 'Status'].map((h) => c.bold(h)), style: {head: [], border: []}, wordWrap: true})
    for (const k of consents) {
      table.push([terminalText(k.userName ?? k.subject), terminalText(k.clientName), terminalText(k.clientId), terminalText(k.scopes.join(' ')) || '-', iso(k.createdAt)!.slice(0, 16).replace('T', ' '), k.revokedAt === null ? c.green('active') : c.red('revoked')])
    }
    this.log(table.toString())
  }
}
