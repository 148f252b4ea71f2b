import type Database from 'better-sqlite3'
import type {SigningKeyRecord, SigningKeyRepository} from '../types.js'
import {type Row, fromRow} from '../rows/signing-keys.js'

export function createSqliteSigningKeys(db: Database.Database): SigningKeyRepository {
  const all = db.prepare<[], Row>('SELECT * FROM signing_keys ORDER BY created_at DESC, rowid DESC')
  const insert = db.prepare(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key_store, created_at)
    VALUES (?, ?, ?, ?, ?)`)
  const retire = db.prepare('UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE retired_at IS NULL')
  const expired = db.prepare<[number], Row>('SELECT * FROM signing_keys WHERE verify_until IS NOT NULL AND verify_until < ?')
  const remove = db.prepare('DELETE FROM signing_keys WHERE verify_until IS NOT NULL AND verify_until < ?')
  const rotate = db.transaction((key: SigningKeyRecord, at: number, verifyUntil: number) => {
    retire.run(at, verifyUntil)
    insert.run(key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeyStore, key.createdAt)
  })
  const prune = db.transaction((now: number) => {
    const gone = expired.all(now)
    remove.run(now)
    return gone
  })
  return {
    async list() {
      return all.all().map(fromRow)
    },
    async rotate(key, {at, verifyUntil}) {
      rotate.immediate(key, at, verifyUntil)
    },
    async prune(now) {
      return prune.immediate(now).map(fromRow)
    },
  }
}
