import {userInfo} from 'node:os'
import type {AuditEvent} from '../store/types.js'

/** Where an administrative action was taken: the `method` of its audit event. */
export type AdminMethod = 'cli' | 'console' | 'consent page' | 'account page' | 'upstream sign-in'

/**
 * Who did an administrative action, and where: the caller says so, the service records it (one
 * audit event per action, written where the action happens). `subject` is the acting user's id
 * (console, consent and account pages), or `cli:<operating-system user>` for the command line;
 * `name` is the acting user's name (or the OS user) for people reading the trail.
 */
export interface Actor {
  method: AdminMethod
  subject: string | null
  name: string | null
}

/** The command line's actor: the operating-system user running `gatehouse` ("unknown" when it has none). */
export function cliActor(): Actor {
  let name = 'unknown'
  try {
    name = userInfo().username
  } catch {
    // A uid without a passwd entry (containers): still the CLI.
  }
  return {method: 'cli', subject: `cli:${name}`, name}
}

/** An audit event of an administrative action by `actor` (outcome ok; `detail.by` names the actor). */
export function adminEvent(actor: Actor, event: string, time: number, {clientId = null, detail = {}}: {clientId?: string | null; detail?: Record<string, unknown>} = {}): AuditEvent {
  return {time, event, clientId, subject: actor.subject, method: actor.method, outcome: 'ok', detail: {...detail, by: actor.name}}
}
