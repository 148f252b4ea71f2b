import type {ChalkInstance} from 'chalk'
import type {ClientRecord} from '../store/types.js'
import {terminalText} from './terminal-text.js'

/** Where a client finds the server, from the issuer (the server's public base URL). */
export function serverUrls(issuer: string) {
  const base = issuer.replace(/\/+$/, '')
  return {issuer: base, token: `${base}/oauth/token`, mcp: `${base}/mcp`}
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const jsString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const pyString = (s: string) => JSON.stringify(s)

/** The clients `gatehouse connect` knows, in the order they are printed. */
export const SNIPPET_TARGETS = ['curl', 'sdk-ts', 'sdk-ts-v2', 'python', 'claude-code', 'claude-desktop', 'connectors', 'vscode', 'cursor', 'inspector'] as const
export type SnippetTarget = (typeof SNIPPET_TARGETS)[number]

export interface Snippet {
  target: SnippetTarget
  title: string
  lines: string[]
  /** How it is held: exercised by a test here, or checked against the client's own documentation. */
  checked: 'test' | 'docs'
}

export type SnippetClient = Pick<ClientRecord, 'id' | 'name' | 'grantTypes' | 'redirectUris' | 'authMethod'>

/**
 * Ready-to-paste settings for the clients people use. With a client: the snippets that fit its
 * grant types (client_credentials: curl, the MCP SDKs, Inspector with a token; authorization_code:
 * Claude Code and mcp-remote with its client id). Without one: the clients that register
 * themselves (RFC 7591) and ask the owner in the browser. `secret` appears only in the curl line,
 * and only when given (oauth-generate-client, once); everywhere else it is read from
 * $GATEHOUSE_CLIENT_SECRET.
 */
export function clientSnippets({issuer, client, secret = null}: {issuer: string; client?: SnippetClient; secret?: string | null}): Snippet[] {
  const urls = serverUrls(issuer)
  const out: Snippet[] = []
  const secretRef = '"$GATEHOUSE_CLIENT_SECRET"'
  const tokenLine = (id: string) => `TOKEN=$(curl -s -u ${shellQuote(`${id}:`)}${secretRef} -d grant_type=client_credentials ${urls.token} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
  const name = client ? client.name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'gatehouse' : 'gatehouse'
  if (!client || client.grantTypes.includes('client_credentials')) {
    if (client) {
      out.push({
        target: 'curl',
        title: 'Get a token',
        checked: 'test',
        lines: [
          secret
            ? `curl -s -u ${shellQuote(`${client.id}:${secret}`)} -d grant_type=client_credentials ${urls.token}`
            : `curl -s -u ${shellQuote(`${client.id}:`)}${secretRef} -d grant_type=client_credentials ${urls.token}`,
        ],
      })
      const id = client.id
      // The same program in both SDK lines (v1 and v2 share these names); only the imports differ.
      const sdkProgram = [
        ``,
        `const authProvider = new ClientCredentialsProvider({`,
        `  clientId: ${jsString(id)},`,
        `  clientSecret: process.env.GATEHOUSE_CLIENT_SECRET,`,
        `  expectedIssuer: ${jsString(urls.issuer)},`,
        `})`,
        `const transport = new StreamableHTTPClientTransport(new URL(${jsString(urls.mcp)}), {authProvider})`,
        `const client = new Client({name: ${jsString(client.name)}, version: '1.0.0'})`,
        `await client.connect(transport)`,
        `console.log(await client.listTools())`,
        `await client.close()`,
      ]
      out.push({
        target: 'sdk-ts',
        title: 'MCP TypeScript SDK v1 (@modelcontextprotocol/sdk), secret from the environment',
        checked: 'test',
        lines: [
          `// export GATEHOUSE_CLIENT_SECRET=... first; save as agent.mjs, run: node agent.mjs`,
          `import {Client} from '@modelcontextprotocol/sdk/client/index.js'`,
          `import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'`,
          `import {ClientCredentialsProvider} from '@modelcontextprotocol/sdk/client/auth-extensions.js'`,
          ...sdkProgram,
        ],
      })
      out.push({
        target: 'sdk-ts-v2',
        title: 'MCP TypeScript SDK v2 (@modelcontextprotocol/client)',
        checked: 'test',
        lines: [
          `// export GATEHOUSE_CLIENT_SECRET=... first; save as agent.mjs, run: node agent.mjs`,
          `// MCP 2026-07-28 only: new Client({...}, {versionNegotiation: {mode: {pin: '2026-07-28'}}})`,
          `import {Client, ClientCredentialsProvider, StreamableHTTPClientTransport} from '@modelcontextprotocol/client'`,
          ...sdkProgram,
        ],
      })
      out.push({
        target: 'python',
        title: 'MCP Python SDK (mcp >= 1.23: mcp.client.auth.extensions.client_credentials)',
        checked: 'docs',
        lines: [
          `import asyncio, os`,
          `from mcp import ClientSession`,
          `from mcp.client.auth import TokenStorage`,
          `from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider`,
          `from mcp.client.streamable_http import streamablehttp_client`,
          ``,
          `class MemoryStorage(TokenStorage):`,
          `    tokens = None; info = None`,
          `    async def get_tokens(self): return self.tokens`,
          `    async def set_tokens(self, tokens): self.tokens = tokens`,
          `    async def get_client_info(self): return self.info`,
          `    async def set_client_info(self, info): self.info = info`,
          ``,
          `async def main():`,
          `    auth = ClientCredentialsOAuthProvider(server_url=${pyString(urls.mcp)}, storage=MemoryStorage(),`,
          `        client_id=${pyString(id)}, client_secret=os.environ["GATEHOUSE_CLIENT_SECRET"])`,
          `    async with streamablehttp_client(${pyString(urls.mcp)}, auth=auth) as (read, write, _):`,
          `        async with ClientSession(read, write) as session:`,
          `            await session.initialize()`,
          `            print(await session.list_tools())`,
          ``,
          `asyncio.run(main())`,
        ],
      })
      out.push({
        target: 'inspector',
        title: 'MCP Inspector CLI (needs Node 22), with a token from the token endpoint',
        checked: 'docs',
        lines: [tokenLine(id), `npx -y @modelcontextprotocol/inspector --cli ${urls.mcp} --transport http --method tools/list --header "Authorization: Bearer $TOKEN"`],
      })
      out.push({
        target: 'claude-code',
        title: 'Claude Code, with a token (it expires; interactive clients are better added without a client, see `gatehouse connect claude-code`)',
        checked: 'docs',
        lines: [tokenLine(id), `claude mcp add --transport http ${name} ${urls.mcp} --header "Authorization: Bearer $TOKEN"`],
      })
    }
  }
  if (client && client.grantTypes.includes('authorization_code')) {
    const port = loopbackCallbackPort(client.redirectUris)
    out.push({
      target: 'claude-code',
      title: `Claude Code with this client id${port ? '' : ' (register a redirect URI http://localhost:PORT/callback and pass --callback-port PORT)'}`,
      checked: 'docs',
      lines: [
        `${client.authMethod === 'none' ? '' : 'MCP_CLIENT_SECRET="$GATEHOUSE_CLIENT_SECRET" '}claude mcp add --transport http --client-id ${client.id}${client.authMethod === 'none' ? '' : ' --client-secret'}${port ? ` --callback-port ${port}` : ''} ${name} ${urls.mcp}`,
      ],
    })
    const info = client.authMethod === 'none' ? {client_id: client.id} : {client_id: client.id, client_secret: 'PASTE_THE_SECRET'}
    out.push({
      target: 'claude-desktop',
      title: 'Claude Desktop through mcp-remote, with this client id (claude_desktop_config.json; redirect URI http://localhost:PORT/oauth/callback)',
      checked: 'docs',
      lines: JSON.stringify({mcpServers: {[name]: {command: 'npx', args: ['-y', 'mcp-remote', urls.mcp, '--static-oauth-client-info', JSON.stringify(info)]}}}, null, 2).split('\n'),
    })
  }
  if (!client) {
    out.push(
      {
        target: 'claude-code',
        title: 'Claude Code (registers itself; you approve it in the browser)',
        checked: 'docs',
        lines: [`claude mcp add --transport http gatehouse ${urls.mcp}`, `# then in Claude Code: /mcp, and "Authenticate"`],
      },
      {
        target: 'claude-desktop',
        title: 'Claude Desktop through mcp-remote (claude_desktop_config.json; it registers, does PKCE and opens the consent page)',
        checked: 'test',
        lines: JSON.stringify({mcpServers: {gatehouse: {command: 'npx', args: ['-y', 'mcp-remote', urls.mcp]}}}, null, 2).split('\n'),
      },
      {
        target: 'connectors',
        title: 'Claude.ai and ChatGPT custom connectors (they need a public HTTPS URL: run behind a tunnel)',
        checked: 'docs',
        lines: [
          `cloudflared tunnel --url ${urls.issuer}            # or any tunnel; note its https URL`,
          `npx oauth-server --port ${portOf(urls.issuer)} --issuer https://YOUR-TUNNEL-HOST`,
          `# Claude.ai: Settings > Connectors > Add custom connector; ChatGPT: Settings > Apps & Connectors (developer mode) > Create`,
          `# URL: https://YOUR-TUNNEL-HOST/mcp   (they register themselves; you approve on the consent page)`,
        ],
      },
      {
        target: 'vscode',
        title: 'VS Code (.vscode/mcp.json, or "MCP: Add Server")',
        checked: 'docs',
        lines: JSON.stringify({servers: {gatehouse: {type: 'http', url: urls.mcp}}}, null, 2).split('\n'),
      },
      {
        target: 'cursor',
        title: 'Cursor (~/.cursor/mcp.json or .cursor/mcp.json)',
        checked: 'docs',
        lines: JSON.stringify({mcpServers: {gatehouse: {url: urls.mcp}}}, null, 2).split('\n'),
      },
      {
        target: 'inspector',
        title: 'MCP Inspector (needs Node 22): the UI runs the OAuth flow for you',
        checked: 'docs',
        lines: [`npx -y @modelcontextprotocol/inspector   # Transport: Streamable HTTP, URL: ${urls.mcp}, then "Open Auth Settings"; the daemon needs --allowed-origin http://localhost:6274`],
      },
    )
  }
  return out
}

function portOf(issuer: string): string {
  const u = new URL(issuer)
  return u.port || (u.protocol === 'https:' ? '443' : '80')
}

/** The port of a registered http://localhost:PORT/callback or 127.0.0.1 one, for Claude Code's --callback-port. */
function loopbackCallbackPort(uris: readonly string[]): string | null {
  for (const uri of uris) {
    const m = /^http:\/\/(?:localhost|127\.0\.0\.1):(\d+)\/callback$/.exec(uri)
    if (m) return m[1]!
  }
  return null
}

/** Snippets as printed lines: a bold title each, code indented by two. */
/**
 * A snippet line as it must be pasted (its backslashes are code), with only control, format and
 * separator characters escaped: none can reach it from a validated client name, but a stored one
 * from before that check must not drive the terminal.
 */
const visibleOnly = (line: string) => line.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (ch) => `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`)

export function renderSnippets(snippets: Snippet[], c: ChalkInstance): string[] {
  const lines: string[] = []
  for (const s of snippets) lines.push('', c.bold(s.title), ...s.lines.map((l) => (l === '' ? '' : `  ${visibleOnly(l)}`)))
  return lines
}

/** Ready-to-paste settings for a new client: URLs, then the snippets that fit its grant types. */
export function clientSettings(client: ClientRecord, secret: string | null, issuer: string, c: ChalkInstance): string[] {
  const urls = serverUrls(issuer)
  return [
    c.bold('Settings'),
    `  Issuer      ${urls.issuer}`,
    `  Token URL   ${urls.token}`,
    `  MCP URL     ${urls.mcp}`,
    `  Scopes      ${terminalText(client.scopes.join(' ')) || '(none)'}`,
    ...renderSnippets(clientSnippets({issuer, client, secret}), c),
  ]
}
