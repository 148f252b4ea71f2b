/**
 * The official v2 SDK client (`@modelcontextprotocol/client` 2.x) against a gateway: pinned to
 * 2026-07-28 (`versionNegotiation: {mode: {pin}}`) or in `auto` mode (probe with
 * server/discover, fall back to initialize).
 */
import type {TestContext} from 'node:test'
import {Client, StreamableHTTPClientTransport} from '@modelcontextprotocol/client'

export type V2Mode = 'pin' | 'auto'

export async function connectV2(
  t: TestContext,
  url: URL,
  token: string,
  {mode = 'pin', capabilities = {}, name = 'v2-test'}: {mode?: V2Mode; capabilities?: Record<string, unknown>; name?: string} = {},
): Promise<Client> {
  const client = new Client(
    {name, version: '1.0.0'},
    {capabilities, versionNegotiation: {mode: mode === 'pin' ? {pin: '2026-07-28'} : 'auto'}} as ConstructorParameters<typeof Client>[1],
  )
  client.onerror = () => {}
  const transport = new StreamableHTTPClientTransport(url, {requestInit: {headers: {authorization: `Bearer ${token}`}}})
  await client.connect(transport)
  t.after(() => client.close().catch(() => {}))
  return client
}
