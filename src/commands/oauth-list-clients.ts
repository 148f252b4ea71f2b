import {Flags} from '@oclif/core'
import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {clientsTable} from '../cli/client-view.js'

export default class ListClients extends BaseCommand {
  static override summary = 'List OAuth clients (active ones, or all with --all).'
  static override examples = ['<%= config.bin %> oauth-list-clients', '<%= config.bin %> oauth-list-clients --all --json']
  static override flags = {
    all: Flags.boolean({description: 'Include revoked clients.', default: false}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ListClients)
    const store = await this.openStore(flags)
    if (flags.json) {
      const json = await store.clients.listJson({includeRevoked: flags.all})
      // In a terminal, indented like every other --json; in a pipe, as the store built it.
      return process.stdout.isTTY ? this.printJson(JSON.parse(json)) : void process.stdout.write(json + '\n')
    }
    const clients = await store.clients.list({includeRevoked: flags.all})
    if (clients.length === 0) {
      this.log(flags.all ? 'No clients yet.' : 'No active clients.')
      this.log(this.colors.dim('Create one with: oauth-generate-client --name NAME'))
      return
    }
    this.log(clientsTable(clients, this.colors))
  }
}
