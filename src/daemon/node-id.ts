import {randomBytes} from 'node:crypto'
import type {RandomBytes} from '../clients/credentials.js'
import {GatehouseError} from '../errors.js'

/**
 * A daemon's node id when none is given: 48 random bits, base64url (8 characters, no '.'), new
 * at every start. It names the node in its heartbeat row (`gatehouse status`) and in the MCP
 * session ids it hands out (src/gateway/sessions.ts).
 */
export const newNodeId = (random: RandomBytes = randomBytes): string => random(6).toString('base64url')

const NODE_ID = /^[A-Za-z0-9_-]{1,32}$/

/**
 * A node id given by the operator (`--node-id`, GATEHOUSE_NODE_ID): stable across restarts, so
 * the balancer's map from id to node stays right (README.md, "Several daemons on one
 * PostgreSQL"). Letters, digits, '-' and '_', at most 32: it travels in every session id.
 * Errors: GatehouseError INVALID_INPUT naming the rule.
 */
export function checkNodeId(id: string): string {
  if (!NODE_ID.test(id)) throw new GatehouseError('INVALID_INPUT', `--node-id ${JSON.stringify(id)} is not a node id: use 1 to 32 letters, digits, - or _`)
  return id
}
