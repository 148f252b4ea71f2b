import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {ClientCredentialsProvider} from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import type {TestContext} from 'node:test'

/**
 * An MCP client as an agent would write it with the official SDK: given only the MCP URL and
 * the credentials, it discovers the authorization server from the 401 and gets its own token.
 */
export async function connectWithClientCredentials(
  t: TestContext,
  mcpUrl: string,
  {clientId, clientSecret, scope, issuer}: {clientId: string; clientSecret: string; scope?: string; issuer: string},
): Promise<Client> {
  const authProvider = new ClientCredentialsProvider({clientId, clientSecret, expectedIssuer: issuer, ...(scope ? {scope} : {})})
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {authProvider})
  const client = new Client({name: 'gatehouse-test', version: '1.0.0'})
  await client.connect(transport)
  t.after(() => client.close())
  return client
}

/** The text of a tool result's first content item. */
export const firstText = (result: unknown): string => ((result as {content: Array<{text: string}>}).content[0]?.text ?? '')
