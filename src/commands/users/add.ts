import {Args, Flags} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {newPassword} from '../../cli/password-input.js'
import {terminalText} from '../../cli/terminal-text.js'
import {createUserAdmin, userJson} from '../../users/user-admin.js'

export default class UsersAdd extends BaseCommand {
  static override summary = 'Add a person who can sign in and approve their own clients.'
  static override description =
    'Without --password-stdin the user has no password and can sign in only through the upstream identity provider (--oidc-issuer). Names are unique; the id printed is stable and is the "sub" of their access tokens.'
  static override examples = [
    "printf '%s' \"$PASSWORD\" | <%= config.bin %> users add alice --password-stdin",
    '<%= config.bin %> users add bob --role owner --password-stdin < pw.txt',
  ]
  static override args = {name: Args.string({description: 'User name (letters, digits, . _ @ + -).', required: true})}
  static override flags = {
    role: Flags.string({description: 'owner (approves for themselves and administers) or member.', options: ['owner', 'member'], default: 'member'}),
    'password-stdin': Flags.boolean({description: 'Read the password from standard input (one trailing newline is dropped).', default: false}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersAdd)
    const password = await newPassword(flags, 'Password', {optional: true})
    const user = await createUserAdmin({store: await this.openStore(flags), clock: this.clock}).add({name: args.name, role: flags.role, password}, cliActor())
    if (flags.json) return this.printJson(userJson(user))
    this.log(`${this.colors.green('✔')} Added ${terminalText(user.name)} (${user.role}), id ${user.id}${user.passwordHash ? '' : '; no password: upstream sign-in only'}.`)
  }
}
