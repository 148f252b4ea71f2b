/**
 * What the child supervisor needs of a 2026 `subscriptions/listen` stream (modern/listen.ts):
 * which change notifications it opted into, and where they go (MCP 2026-07-28
 * basic-patterns-subscriptions §Notification Filter: the server MUST NOT send types the client
 * has not explicitly requested).
 */
import type {JsonRpcMessage} from './json-rpc.js'

export interface ChangeListener {
  /** The resource URIs it subscribed to (`resourceSubscriptions`), fixed for its life. */
  readonly uris: ReadonlySet<string>
  /** Whether it opted into `method` (for notifications/resources/updated: of `uri`). */
  wants(method: string, uri?: string): boolean
  /** Sends a notification it wants, tagged with its subscription id. */
  deliver(msg: JsonRpcMessage): void
}
