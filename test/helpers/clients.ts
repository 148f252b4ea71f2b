import {runBin} from './cli.js'

export interface GeneratedClient {
  client_id: string
  client_secret: string
  scopes: string[]
}

/** Creates a client through the real CLI, as a user would. */
export async function generateClient(dataDir: string, args: string[], root?: string): Promise<GeneratedClient> {
  const r = await runBin('oauth-generate-client', [...args, '--json'], {dataDir, root})
  if (r.code !== 0) throw new Error(`oauth-generate-client failed (${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout) as GeneratedClient
}

export const basic = (id: string, secret: string) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')

/** A client_credentials token straight from the token endpoint. */
export async function fetchToken(issuer: string, c: GeneratedClient, body: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {Authorization: basic(c.client_id, c.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({grant_type: 'client_credentials', ...body}),
  })
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as {access_token: string}).access_token
}
