import {Args} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin} from '../../users/user-admin.js'

export default class UsersRemove extends BaseCommand {
  static override summary = 'Remove a user: revokes as disable does, then deletes the account and its upstream sign-in links.'
  static override examples = ['<%= config.bin %> users remove bob']
  static override args = {name: Args.string({description: 'User name (or id).', required: true})}
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersRemove)
    const r = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).remove(args.name, cliActor())
    if (flags.json) return this.printJson({id: r.user.id, name: r.user.name, status: 'removed', consents_revoked: r.consents, grants_revoked: r.grants})
    this.log(`${this.colors.green('✔')} Removed ${terminalText(r.user.name)}; revoked ${r.consents} consent(s) and ${r.grants} grant(s).`)
  }
}
