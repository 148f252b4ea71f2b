import {Client, ClientCredentialsProvider, StreamableHTTPClientTransport} from '@modelcontextprotocol/client'

const authProvider = new ClientCredentialsProvider({
  clientId: 'gtc_j5PBARNiKsk-iIfEkYG88g',
  clientSecret: process.env.GATEHOUSE_CLIENT_SECRET,
  expectedIssuer: 'http://127.0.0.1:33077',
})
const transport = new StreamableHTTPClientTransport(new URL('http://127.0.0.1:33077/mcp'), {authProvider})
const client = new Client({name: 'x', version: '1.0.0'})
await client.connect(transport)
console.log(await client.listTools())
await client.close()
