import {Flags} from '@oclif/core'
import {BaseCommand, storeConfig} from '../cli/base-command.js'
import {createLogger, type LogLevel} from '../log.js'
import {terminalText} from '../cli/terminal-text.js'
import {parseDuration} from '../config/duration.js'
import {dataDirArg} from '../config/paths.js'
import {invalidInput} from '../errors.js'
import {DEFAULT_MAX_CHILDREN, type Isolation} from '../gateway/gateway.js'
import {upstreamBanner, upstreamOptions} from '../users/oidc/upstream-flags.js'
import {createServer, defaultGatewayLimits, defaults} from '../server.js'
import {consolePath} from '../console/console.js'

/** How long SIGTERM/SIGINT may take before the daemon exits regardless: the child kill grace, the HTTP grace, a margin. */
const STOP_DEADLINE_MS = (defaultGatewayLimits.killGraceMs ?? 3000) + 2000 + 1500

export default class OAuthServer extends BaseCommand {
  static override summary = 'Run the daemon: the OAuth authorization server and the MCP gateway on one port.'
  static override description = `Every flag also reads GATEHOUSE_<FLAG> (GATEHOUSE_PORT, GATEHOUSE_ISSUER, ...); flags win.
Everything after -- is the local stdio MCP server to gate; without it, the bundled memory server.`
  static override examples = [
    '<%= config.bin %> oauth-server --port 8080',
    '<%= config.bin %> oauth-server --port 8080 -- npx -y @modelcontextprotocol/server-filesystem ~/notes',
    '<%= config.bin %> oauth-server --issuer https://mcp.example.com --port 8080',
  ]
  static override strict = false
  static override flags = {
    port: Flags.integer({description: 'TCP port (0 picks a free one).', env: 'GATEHOUSE_PORT', default: defaults.port, min: 0, max: 65535}),
    host: Flags.string({description: 'Address to bind. Loopback unless you mean otherwise.', env: 'GATEHOUSE_HOST', default: defaults.host}),
    issuer: Flags.string({description: 'Public base URL (behind a tunnel or reverse proxy); default http(s)://HOST:PORT.', env: 'GATEHOUSE_ISSUER'}),
    'tls-cert': Flags.string({description: 'PEM certificate file: serve HTTPS.', env: 'GATEHOUSE_TLS_CERT', dependsOn: ['tls-key']}),
    'tls-key': Flags.string({description: 'PEM private key file for --tls-cert.', env: 'GATEHOUSE_TLS_KEY', dependsOn: ['tls-cert']}),
    'allowed-origin': Flags.string({description: 'A browser origin allowed to call the MCP endpoint (repeatable, or comma-separated).', env: 'GATEHOUSE_ALLOWED_ORIGIN', multiple: true, delimiter: ','}),
    'node-id': Flags.string({description: 'This node\'s name behind a load balancer (letters, digits, - and _; at most 32): MCP session ids start with it, so the balancer can route a session to its node. Default: random at each start.', env: 'GATEHOUSE_NODE_ID'}),
    'node-url': Flags.string({description: 'The base URL the other nodes reach this one at (several daemons on one PostgreSQL): a 2026-07-28 multi round-trip retry that reaches another node is forwarded here. Default: where it listens (the machine\'s host name when --host is 0.0.0.0 or ::).', env: 'GATEHOUSE_NODE_URL'}),
    isolation: Flags.string({
      description: 'client: one MCP server process per OAuth client (default); user: one per person, shared by all of their clients (GATEHOUSE_USER_ID); session: one per session; shared: one for all (stateless servers only).',
      env: 'GATEHOUSE_ISOLATION',
      options: ['client', 'user', 'session', 'shared'],
      default: 'client',
    }),
    env: Flags.string({description: 'KEY=VALUE passed to the MCP server process (repeatable); it otherwise gets only PATH, HOME, locale and TZ.', multiple: true}),
    'session-idle-timeout': Flags.string({description: 'End MCP sessions idle this long, e.g. 30m.', env: 'GATEHOUSE_SESSION_IDLE_TIMEOUT', default: '30m'}),
    'max-sessions': Flags.integer({description: 'Most MCP sessions at once; beyond it, 503 with Retry-After.', env: 'GATEHOUSE_MAX_SESSIONS', default: defaultGatewayLimits.maxSessions, min: 1}),
    'max-sessions-per-client': Flags.integer({description: 'Most MCP sessions one client may hold (a client\'s own setting wins); beyond it, 429 with Retry-After. Default: a quarter of --max-sessions (and of --max-children with --isolation session).', env: 'GATEHOUSE_MAX_SESSIONS_PER_CLIENT', min: 1}),
    'max-children': Flags.integer({description: 'Most MCP server processes at once; beyond it (and none idle), 503 with Retry-After.', env: 'GATEHOUSE_MAX_CHILDREN', default: DEFAULT_MAX_CHILDREN, min: 1}),
    'max-message-bytes': Flags.integer({description: 'Largest MCP request body and line from the MCP server, bytes.', env: 'GATEHOUSE_MAX_MESSAGE_BYTES', default: defaultGatewayLimits.maxBodyBytes, min: 1024}),
    policy: Flags.string({description: 'Scope policy file (JSON or YAML): which scopes each tool, resource and prompt needs. Reloaded on change.', env: 'GATEHOUSE_POLICY'}),
    'token-rate-limit': Flags.integer({description: 'Token requests per minute per client (a client\'s own limit wins). Off unless set.', env: 'GATEHOUSE_TOKEN_RATE_LIMIT', min: 1}),
    'mcp-rate-limit': Flags.integer({description: 'MCP requests per minute per client (a client\'s own limit wins). Off unless set.', env: 'GATEHOUSE_MCP_RATE_LIMIT', min: 1}),
    'audit-retention-days': Flags.integer({description: 'Days the audit trail is kept.', env: 'GATEHOUSE_AUDIT_RETENTION_DAYS', default: 30, min: 1}),
    'log-format': Flags.string({description: 'Log lines as text or JSON.', env: 'GATEHOUSE_LOG_FORMAT', options: ['text', 'json'], default: 'text'}),
    registration: Flags.boolean({description: 'Dynamic client registration at /oauth/register (RFC 7591); --no-registration turns it off.', env: 'GATEHOUSE_REGISTRATION', default: true, allowNo: true}),
    'client-metadata-documents': Flags.boolean({description: 'Accept https client_ids described by client ID metadata documents; --no-client-metadata-documents turns it off.', env: 'GATEHOUSE_CLIENT_METADATA_DOCUMENTS', default: true, allowNo: true}),
    'allow-private-metadata-hosts': Flags.boolean({description: 'Development only: fetch client metadata documents from loopback and private addresses.', env: 'GATEHOUSE_ALLOW_PRIVATE_METADATA_HOSTS', default: false}),
    'auto-approve': Flags.boolean({description: 'Development only: approve every valid authorization request without the owner. Loopback host and issuer only.', env: 'GATEHOUSE_AUTO_APPROVE', default: false}),
    'refresh-grace': Flags.integer({description: 'Seconds in which a just-rotated refresh token may be retried by its client (lost response).', env: 'GATEHOUSE_REFRESH_GRACE', default: 60, min: 0, max: 600}),
    console: Flags.boolean({description: 'The owner\'s console in the browser (owner login); --no-console turns it off.', env: 'GATEHOUSE_CONSOLE', default: true, allowNo: true}),
    'console-path': Flags.string({description: 'Where the owner\'s console lives.', env: 'GATEHOUSE_CONSOLE_PATH', default: '/console'}),
    'log-level': Flags.string({description: 'Least severe level logged.', env: 'GATEHOUSE_LOG_LEVEL', options: ['debug', 'info', 'warn', 'error'], default: 'info'}),
    'oidc-issuer': Flags.string({description: 'Let people sign in through this OpenID Connect provider (its issuer URL) on the consent page.', env: 'GATEHOUSE_OIDC_ISSUER', helpGroup: 'SIGN-IN'}),
    'oidc-client-id': Flags.string({description: 'Gatehouse\'s client id at the provider (redirect URI: ISSUER/oauth/upstream/callback).', env: 'GATEHOUSE_OIDC_CLIENT_ID', helpGroup: 'SIGN-IN'}),
    'oidc-client-secret-file': Flags.string({description: 'File holding Gatehouse\'s client secret at the provider.', env: 'GATEHOUSE_OIDC_CLIENT_SECRET_FILE', helpGroup: 'SIGN-IN'}),
    'oidc-client-key-file': Flags.string({description: 'Instead of a secret: a private key (PEM or JWK) to authenticate at the provider with private_key_jwt (RFC 7523); register its public key there.', env: 'GATEHOUSE_OIDC_CLIENT_KEY_FILE', helpGroup: 'SIGN-IN'}),
    'oidc-allow-email': Flags.string({description: 'Allow this verified e-mail address (repeatable, or comma-separated).', env: 'GATEHOUSE_OIDC_ALLOW_EMAIL', multiple: true, delimiter: ',', helpGroup: 'SIGN-IN'}),
    'oidc-allow-domain': Flags.string({description: 'Allow verified e-mail addresses of this domain (repeatable, or comma-separated).', env: 'GATEHOUSE_OIDC_ALLOW_DOMAIN', multiple: true, delimiter: ',', helpGroup: 'SIGN-IN'}),
    'oidc-allow-claim': Flags.string({description: 'Allow people with this NAME=VALUE claim, in the ID token or from UserInfo (a string, or an array containing it: groups). Repeatable.', env: 'GATEHOUSE_OIDC_ALLOW_CLAIM', multiple: true, helpGroup: 'SIGN-IN'}),
    'oidc-auto-create': Flags.boolean({description: 'Create a member at the first upstream sign-in of an allowed person (needs an allow-list).', env: 'GATEHOUSE_OIDC_AUTO_CREATE', default: false, helpGroup: 'SIGN-IN'}),
    'oidc-only': Flags.boolean({description: 'Offer only upstream sign-in on the consent page (no password form).', env: 'GATEHOUSE_OIDC_ONLY', default: false, helpGroup: 'SIGN-IN'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(OAuthServer)
    const [command, ...args] = argv as string[]
    const logger = createLogger({format: flags['log-format'] as 'text' | 'json', level: flags['log-level'] as LogLevel, escape: terminalText})
    const {dataDir, databaseUrl, postgres} = storeConfig(flags, this.clock)
    const upstream = upstreamOptions(flags)
    const server = await createServer({
      dataDir,
      databaseUrl,
      postgres,
      keyEncryptionKeyFile: flags['key-encryption-key-file'],
      host: flags.host,
      port: flags.port,
      issuer: flags.issuer,
      tls: flags['tls-cert'] && flags['tls-key'] ? {certFile: flags['tls-cert'], keyFile: flags['tls-key']} : undefined,
      allowedOrigins: flags['allowed-origin'] ?? [],
      logger,
      clock: this.clock,
      policyFile: flags.policy,
      tokenRateLimit: flags['token-rate-limit'] ?? null,
      mcpRateLimit: flags['mcp-rate-limit'] ?? null,
      auditRetentionDays: flags['audit-retention-days'],
      command: command === undefined ? undefined : {command, args},
      isolation: flags.isolation as Isolation,
      nodeId: flags['node-id'],
      nodeUrl: flags['node-url'],
      childEnv: parseEnvPairs(flags.env ?? []),
      gateway: {
        sessionIdleTimeoutMs: parseDuration(flags['session-idle-timeout'], '--session-idle-timeout', {min: 10, max: 7 * 86_400}) * 1000,
        maxSessions: flags['max-sessions'],
        maxSessionsPerClient: flags['max-sessions-per-client'],
        maxChildren: flags['max-children'],
        maxBodyBytes: flags['max-message-bytes'],
        maxLineBytes: Math.max(flags['max-message-bytes'], defaultGatewayLimits.maxLineBytes),
      },
      console: flags.console ? {path: flags['console-path']} : false,
      interactive: {
        registration: flags.registration,
        metadataDocuments: flags['client-metadata-documents'],
        allowPrivateMetadataHosts: flags['allow-private-metadata-hosts'],
        autoApprove: flags['auto-approve'],
        refreshGraceMs: flags['refresh-grace'] * 1000,
        upstream,
      },
    })
    const c = this.colors
    if (server.keyStorage.notice) this.notice(server.keyStorage.notice)
    this.log(`${c.green('●')} gatehouse listening on ${c.bold(server.url)}`)
    this.log(`  issuer          ${server.issuer}`)
    this.log(`  token endpoint  ${server.issuer}/oauth/token`)
    this.log(`  MCP endpoint    ${server.issuer}/mcp  (gating ${command === undefined ? 'the bundled memory server' : terminalText([command, ...args].join(' '))}; isolation ${flags.isolation})`)
    this.log(`  authorize       ${server.issuer}/oauth/authorize${flags['auto-approve'] ? c.yellow(' (auto-approve: development only)') : ''}`)
    if (flags.console) this.log(`  console         ${server.issuer}${consolePath(flags['console-path'])}  (owner login)`)
    // Upstream OpenID Connect sign-in: the provider, and the redirect URI to register there.
    if (upstream) for (const line of upstreamBanner(upstream, server.issuer)) this.log(terminalText(line))
    this.log(`  signing keys    ${server.keyStorage.kind === 'keychain' ? 'in the OS keychain' : server.keyStorage.location}`)
    if (databaseUrl) this.log(`  store           ${server.store}`)
    this.log(`  get a token     curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials ${server.issuer}/oauth/token`)
    // The hinted commands must reach this data dir from another shell, where GATEHOUSE_DATA_DIR may be unset.
    const dirArg = dataDirArg(dataDir)
    this.log(c.dim(`  no client yet?  npx oauth-generate-client --name my-agent${dirArg}`))
    // The hinted commands must reach the same store: on PostgreSQL that is the database, not the data dir.
    if (databaseUrl) this.log(c.dim('                  (with the same --database-url and --key-encryption-key-file, or their GATEHOUSE_ variables)'))
    this.log(c.dim(`  status, stop    npx gatehouse status${dirArg}   npx gatehouse stop${dirArg}`))

    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info('stopping', {signal})
        // README "Stopping": children get SIGTERM, then SIGKILL after 3 s, connections 2 s. Past
        // that (and a margin), the daemon exits anyway rather than linger half-stopped.
        setTimeout(() => {
          logger.error('could not stop cleanly in time; exiting')
          process.exit(1)
        }, STOP_DEADLINE_MS).unref()
        void server.close().then(resolve)
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
    logger.info('stopped')
  }
}


function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pair.slice(0, eq))) throw invalidInput(`--env ${JSON.stringify(pair)} is not KEY=VALUE`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}
