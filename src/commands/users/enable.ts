import {Args} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin} from '../../users/user-admin.js'

export default class UsersEnable extends BaseCommand {
  static override summary = 'Enable a disabled user again: they may sign in, and approve their clients anew.'
  static override description = 'What `users disable` revoked (consents, grants, refresh tokens) stays revoked. Exits 4 (NOT_FOUND) for an unknown name or a user who is not disabled.'
  static override examples = ['<%= config.bin %> users enable bob']
  static override args = {name: Args.string({description: 'User name (or id).', required: true})}
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersEnable)
    const user = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).enable(args.name, cliActor())
    if (flags.json) return this.printJson({id: user.id, name: user.name, status: 'active'})
    this.log(`${this.colors.green('✔')} Enabled ${terminalText(user.name)}; they approve their clients anew.`)
  }
}
