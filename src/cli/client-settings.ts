import type {ChalkInstance} from 'chalk'
import type {ClientRecord} from '../store/types.js'
import {terminalText} from './terminal-text.js'

/** Where a client finds the server, from the issuer (the server's public base URL). */
export function serverUrls(issuer: string) {
  const base = issuer.replace(/\/+$/, '')
  return {issuer: base, token: `${base}/oauth/token`, mcp: `${base}/mcp`}
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Ready-to-paste settings for a new client: token URL, MCP URL, a curl line, an SDK snippet. */
export function clientSettings(client: ClientRecord, secret: string | null, issuer: string, c: ChalkInstance): string[] {
  const urls = serverUrls(issuer)
  const lines = [
    c.bold('Settings'),
    `  Issuer      ${urls.issuer}`,
    `  Token URL   ${urls.token}`,
    `  MCP URL     ${urls.mcp}`,
    `  Scopes      ${terminalText(client.scopes.join(' ')) || '(none)'}`,
  ]
  if (client.grantTypes.includes('client_credentials') && secret) {
    lines.push(
      '',
      c.bold('Get a token'),
      `  curl -s -u ${shellQuote(`${client.id}:${secret}`)} -d grant_type=client_credentials ${urls.token}`,
      '',
      c.bold('An agent with the MCP TypeScript SDK') + c.dim(' (secret from the environment)'),
      `  import {Client} from '@modelcontextprotocol/sdk/client/index.js'`,
      `  import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'`,
      `  import {ClientCredentialsProvider} from '@modelcontextprotocol/sdk/client/auth-extensions.js'`,
      ``,
      `  const authProvider = new ClientCredentialsProvider({`,
      `    clientId: '${client.id}',`,
      `    clientSecret: process.env.GATEHOUSE_CLIENT_SECRET,`,
      `    expectedIssuer: '${urls.issuer}',`,
      `  })`,
      `  const transport = new StreamableHTTPClientTransport(new URL('${urls.mcp}'), {authProvider})`,
      `  const client = new Client({name: '${terminalText(client.name).replace(/'/g, "\\'")}', version: '1.0.0'})`,
      `  await client.connect(transport)`,
    )
  }
  return lines
}
