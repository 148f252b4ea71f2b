/**
 * Mapping an upstream identity to a local user (issue 17; OIDC Core §5.7: iss + sub, used
 * together, are the only stable identifier): without auto-create only linked identities sign
 * in; an e-mail claim never finds a user; a changed e-mail keeps the user; a disabled user is
 * refused; `users link` refuses an identity that is bound already.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {GatehouseError} from '../../src/errors.js'
import {openStore} from '../../src/store/open-store.js'
import {allows} from '../../src/users/oidc/allow-list.js'
import {linkAccount} from '../../src/users/oidc/link-account.js'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {tempDir} from '../helpers/tmp.js'

const ISS = 'https://login.example.com'

test('linkAccount: (iss, sub) only; auto-create off means linked identities only', async (t) => {
  const clock = manualClock(Date.UTC(2026, 10, 30))
  const store = await openStore({dataDir: tempDir(t), clock})
  t.after(() => store.close())
  const admin = createUserAdmin({store, clock})
  const local = await admin.add({name: 'alice@example.com', password: 'a long local password'}, cliActor())
  const claims = {iss: ISS, sub: 'sub-1', email: 'alice@example.com', email_verified: true, preferred_username: 'alice'}

  assert.deepEqual(await linkAccount({store, clock, issuer: ISS, claims, autoCreate: false}), {outcome: 'no_account'}, 'the e-mail finds no one')
  await admin.link('alice@example.com', {issuer: ISS, subject: 'sub-1'}, cliActor())
  await assert.rejects(admin.link('alice@example.com', {issuer: ISS, subject: 'sub-1'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT')
  await assert.rejects(admin.link('nobody', {issuer: ISS, subject: 'sub-2'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'NOT_FOUND')
  const linked = await linkAccount({store, clock, issuer: ISS, claims: {...claims, email: 'changed@example.com'}, autoCreate: false})
  assert.equal(linked.outcome === 'ok' && linked.user.id, local.id, 'a changed e-mail is the same user')
  assert.equal((await store.users.findIdentity(ISS, 'sub-1'))?.email, 'changed@example.com', 'the claim is recorded, for people')
  // The same sub at another issuer is another identity.
  assert.equal((await linkAccount({store, clock, issuer: 'https://other.example', claims, autoCreate: false})).outcome, 'no_account')
  // Auto-create: a new member, whose name avoids the taken ones; twice gives the same user.
  const made = await linkAccount({store, clock, issuer: ISS, claims: {...claims, sub: 'sub-3', preferred_username: 'alice@example.com'}, autoCreate: true})
  assert.ok(made.outcome === 'ok' && made.created)
  assert.equal(made.user.name, 'alice@example.com-2')
  assert.notEqual(made.user.id, local.id, 'never merged into the local user of that address')
  const again = await linkAccount({store, clock, issuer: ISS, claims: {...claims, sub: 'sub-3'}, autoCreate: true})
  assert.ok(again.outcome === 'ok' && !again.created && again.user.id === made.user.id)
  await admin.disable(made.user.name, cliActor())
  assert.equal((await linkAccount({store, clock, issuer: ISS, claims: {...claims, sub: 'sub-3'}, autoCreate: true})).outcome, 'disabled')
})

test('allow-list: verified e-mail, domain, claim pairs', () => {
  const list = {emails: ['Bob@Example.com'], domains: ['corp.example'], claims: [{name: 'groups', value: 'mcp-users'}, {name: 'hd', value: 'corp2.example'}]}
  assert.equal(allows(list, {email: 'bob@example.com', email_verified: true}), true)
  assert.equal(allows(list, {email: 'bob@example.com', email_verified: false}), false, 'unverified')
  assert.equal(allows(list, {email: 'bob@example.com'}), false, 'verification not stated')
  assert.equal(allows(list, {email: 'x@CORP.example', email_verified: true}), true)
  assert.equal(allows(list, {email: 'x@evilcorp.example', email_verified: true}), false, 'a suffix is not the domain')
  assert.equal(allows(list, {email: 'x@corp.example.evil', email_verified: true}), false)
  assert.equal(allows(list, {groups: ['a', 'mcp-users']}), true)
  assert.equal(allows(list, {hd: 'corp2.example'}), true)
  assert.equal(allows(list, {groups: 'mcp-users-not'}), false)
})
