import {Args, Flags} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin} from '../../users/user-admin.js'

export default class UsersLink extends BaseCommand {
  static override summary = "Let a user sign in through the identity provider: bind the provider's (issuer, sub) to them."
  static override description = 'Needed when the daemon runs without --oidc-auto-create. The e-mail address is never used to find a user; the sub claim is.'
  static override examples = ['<%= config.bin %> users link alice --issuer https://login.example.com --subject 248289761001']
  static override args = {name: Args.string({description: 'User name (or id).', required: true})}
  static override flags = {
    issuer: Flags.string({description: 'The provider\'s issuer URL, exactly as --oidc-issuer (and the ID token\'s iss).', required: true}),
    subject: Flags.string({description: 'The person\'s sub claim at that provider.', required: true}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersLink)
    const user = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).link(args.name, {issuer: flags.issuer, subject: flags.subject}, cliActor())
    if (flags.json) return this.printJson({id: user.id, name: user.name, issuer: flags.issuer, subject: flags.subject})
    this.log(`${this.colors.green('✔')} ${terminalText(user.name)} can now sign in as ${terminalText(flags.subject)} at ${terminalText(flags.issuer)}.`)
  }
}
