import {Args} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin} from '../../users/user-admin.js'

export default class UsersDisable extends BaseCommand {
  static override summary = "Disable a user: no more sign-ins, and every consent and grant of theirs revoked at once."
  static override description = 'Running daemons (on this data dir, or on the same PostgreSQL database) refuse their access tokens from the next request and stop their MCP server child.'
  static override examples = ['<%= config.bin %> users disable bob']
  static override args = {name: Args.string({description: 'User name (or id).', required: true})}
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersDisable)
    const r = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).disable(args.name, cliActor())
    if (flags.json) return this.printJson({id: r.user.id, name: r.user.name, status: 'disabled', consents_revoked: r.consents, grants_revoked: r.grants})
    this.log(`${this.colors.green('✔')} Disabled ${terminalText(r.user.name)}; revoked ${r.consents} consent(s) and ${r.grants} grant(s).`)
  }
}
