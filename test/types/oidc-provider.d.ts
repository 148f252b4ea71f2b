// The part of node-oidc-provider (a test-only devDependency, no bundled types) the tests use.
declare module 'oidc-provider' {
  import type {IncomingMessage, ServerResponse} from 'node:http'
  export interface Account {
    accountId: string
    claims(): Promise<Record<string, unknown>>
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & {findAccount?: (ctx: unknown, id: string) => Promise<Account | undefined>})
    callback(): (req: IncomingMessage, res: ServerResponse) => void
  }
}
