import {randomBytes} from 'node:crypto'
import type {RandomBytes} from '../clients/credentials.js'

/**
 * A daemon's node id: 48 random bits, base64url (8 characters, no '.'), new at every start. It
 * names the node in its heartbeat row (`gatehouse status`) and in the MCP session ids it hands
 * out (src/gateway/sessions.ts): a restarted node has lost its sessions, so it gets a new name.
 */
export const newNodeId = (random: RandomBytes = randomBytes): string => random(6).toString('base64url')
