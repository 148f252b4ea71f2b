import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {clientSettings} from '../cli/client-settings.js'
import {canPrompt, askText, needsFlag} from '../cli/prompts.js'
import {cliActor} from '../audit/actor.js'
import {createClientAdmin, DEFAULT_SCOPES} from '../clients/admin.js'
import {parsePublicKeys} from '../clients/public-key.js'
import {GRANT_TYPES, parseTokenTtl, validateName, validateScopes} from '../clients/validate.js'
import {GatehouseError, invalidInput} from '../errors.js'
import {probeKeychain} from '../secrets/keychain.js'
import {terminalText} from '../cli/terminal-text.js'
import {dataDirArg, resolveDataDir} from '../config/paths.js'
import {issuerForPrinting} from '../daemon/printed-issuer.js'
import type {TokenEndpointAuthMethod} from '../store/types.js'

export default class GenerateClient extends BaseCommand {
  static override summary = 'Create an OAuth client and print its credentials once.'
  static override description =
    'The secret is shown once and stored only as a SHA-256 hash. Without --json, prompts for what is missing when run in a terminal.'
  static override examples = [
    '<%= config.bin %> oauth-generate-client --name ci-agent --scope mcp',
    '<%= config.bin %> oauth-generate-client --name ci-agent --scope memories:read --token-ttl 15m --json',
    '<%= config.bin %> oauth-generate-client --name laptop --grant-type authorization_code --grant-type refresh_token --redirect-uri http://127.0.0.1/callback',
    '<%= config.bin %> oauth-generate-client --name signer --auth-method private_key_jwt --public-key ./agent.pub.pem',
  ]
  static override flags = {
    name: Flags.string({description: 'A unique name among active clients (1-100 characters).'}),
    description: Flags.string({description: 'What the client is for.'}),
    scope: Flags.string({description: `A scope the client may ask for; repeat for more (default: ${DEFAULT_SCOPES.join(' ')}).`, multiple: true}),
    'grant-type': Flags.string({description: 'A grant the client may use; repeat for more (default: client_credentials).', multiple: true, options: [...GRANT_TYPES]}),
    'redirect-uri': Flags.string({description: 'A redirect URI for authorization_code; repeat for more.', multiple: true}),
    'token-ttl': Flags.string({description: 'Access token lifetime, e.g. 900, 15m, 1h (default: 1h).'}),
    'auth-method': Flags.string({
      description: 'How the client authenticates at the token endpoint.',
      options: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      default: 'client_secret_basic',
    }),
    'public-key': Flags.string({description: 'For private_key_jwt: a file with the PEM public key, a JWK or a JWKS.'}),
    'token-rate-limit': Flags.integer({description: 'Token requests per minute for this client (default: the server\'s --token-rate-limit, off unless set).'}),
    'mcp-rate-limit': Flags.integer({description: 'MCP requests per minute for this client (default: the server\'s --mcp-rate-limit, off unless set).'}),
    'max-sessions': Flags.integer({description: 'Most MCP sessions this client may hold at once (default: the server\'s --max-sessions-per-client).'}),
    'save-to-keychain': Flags.boolean({description: 'Also save the secret in the OS keychain (service "gatehouse", account = client id).', default: false}),
    issuer: Flags.string({description: 'The server\'s public base URL, for the printed settings (default: the daemon running on this data dir, else http://127.0.0.1:8080).', env: 'GATEHOUSE_ISSUER'}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(GenerateClient)
    const interactive = canPrompt(flags)
    let name = flags.name
    let description = flags.description
    let scopes = flags.scope
    if (name === undefined) {
      if (!interactive) throw needsFlag('a client name', '--name')
      name = await askText('Client name', {validate: promptCheck(validateName)})
      description ??= await askText('Description (optional)')
      scopes ??= [await askText('Scopes (space-separated)', {default: DEFAULT_SCOPES.join(' '), validate: promptCheck((s) => validateScopes([s]))})]
    }
    const jwks = flags['public-key'] ? parsePublicKeys(readKeyFile(flags['public-key']), flags['public-key']) : null
    // Checked before anything is written: a failed save must not leave a client nobody has the secret of.
    const keychain = flags['save-to-keychain'] ? await probeKeychain() : undefined
    if (keychain && !keychain.ok) throw new GatehouseError('KEYCHAIN', `cannot save to the OS keychain: ${keychain.reason}; nothing was created`)

    // Before anything is written: a runtime record that is not ours fails here, changing nothing.
    const printed = flags.json ? undefined : await issuerForPrinting(flags.issuer, resolveDataDir(flags['data-dir']))
    const admin = createClientAdmin({store: await this.openStore(flags), clock: this.clock})
    const {client, secret} = await admin.generate({
      name,
      description,
      scopes,
      grantTypes: flags['grant-type'],
      redirectUris: flags['redirect-uri'],
      accessTokenTtl: flags['token-ttl'] === undefined ? null : parseTokenTtl(flags['token-ttl']),
      authMethod: flags['auth-method'] as TokenEndpointAuthMethod,
      jwks,
      tokenRateLimit: flags['token-rate-limit'],
      mcpRateLimit: flags['mcp-rate-limit'],
      maxSessions: flags['max-sessions'],
    }, cliActor())
    if (keychain?.ok && secret) await keychain.vault.set(client.id, secret)

    if (flags.json) {
      this.printJson({
        client_id: client.id,
        client_secret: secret,
        name: client.name,
        description: client.description,
        scopes: client.scopes,
        grant_types: client.grantTypes,
        created_at: new Date(client.createdAt).toISOString(),
        redirect_uris: client.redirectUris,
        token_endpoint_auth_method: client.authMethod,
        access_token_lifetime: client.accessTokenTtl,
      })
      return
    }
    const c = this.colors
    this.log(`${c.green('✔')} Created client ${c.bold(terminalText(client.name))}`)
    this.log(`  client_id      ${client.id}`)
    if (secret) {
      this.log(`  client_secret  ${c.bold(secret)}`)
      this.log(c.yellow('  ⚠ Copy the secret now: it is shown only this once and stored only as a hash.'))
      if (keychain?.ok) this.log(c.dim(`  Saved in the OS keychain (service "gatehouse", account ${client.id}).`))
    }
    this.log('')
    if (printed!.notice) this.notice(printed!.notice)
    for (const line of clientSettings(client, secret, printed!.issuer, c)) this.log(line)
    this.log('')
    this.log(c.dim(`  Print these again (without the secret): npx gatehouse connect --client-id ${client.id}${dataDirArg(resolveDataDir(flags['data-dir']))}`))
  }
}

/** Adapts a validator that throws into inquirer's validate (true, or the message to show). */
function promptCheck(check: (value: string) => unknown) {
  return (value: string): true | string => {
    try {
      check(value)
      return true
    } catch (error) {
      return (error as Error).message
    }
  }
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw invalidInput(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
