import Table from 'cli-table3'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin, userJson} from '../../users/user-admin.js'

export default class UsersList extends BaseCommand {
  static override summary = 'List the people who can sign in.'
  static override examples = ['<%= config.bin %> users list', '<%= config.bin %> users list --json']
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(UsersList)
    const users = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).list()
    if (flags.json) return this.printJson(users.map(userJson))
    if (users.length === 0) return this.log('No users. Add one: gatehouse users add NAME --password-stdin')
    const c = this.colors
    const table = new Table({head: ['Name', 'Role', 'Id', 'Password', 'Created (UTC)', 'Status'].map((h) => c.bold(h)), style: {head: [], border: []}})
    for (const u of users.map(userJson)) {
      table.push([terminalText(u.name), u.role, u.id, u.password ? 'yes' : 'no', u.created_at.slice(0, 16).replace('T', ' '), u.status === 'active' ? c.green(u.status) : c.red(u.status)])
    }
    this.log(table.toString())
  }
}
