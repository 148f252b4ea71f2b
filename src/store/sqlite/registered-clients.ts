import type Database from 'better-sqlite3'
import {StoreConflictError} from '../errors.js'
import type {ClientRecord, NewClient, RegisteredClientRepository} from '../types.js'
import {createSqliteClients} from './clients.js'
import {toJson} from '../json.js'

/** Self-registered clients (RFC 7591) and metadata-document clients, beside the CLI's own. */
export function createSqliteRegisteredClients(db: Database.Database): RegisteredClientRepository {
  const clients = createSqliteClients(db)
  const update = db.prepare(`UPDATE clients SET name = @name, description = @description, scopes = @scopes, grant_types = @grantTypes,
    redirect_uris = @redirectUris, metadata = @metadata WHERE id = @id AND revoked_at IS NULL AND registration = 'metadata_document'`)
  // Metadata-document clients count and expire like registered ones (issue 11, item 12).
  const count = db.prepare<[], number>(`SELECT count(*) FROM clients WHERE registration IN ('dynamic','metadata_document') AND revoked_at IS NULL`).pluck()
  const readmit = db.prepare(`UPDATE clients SET revoked_at = NULL, revoked_by = NULL, revoked_reason = NULL, created_at = ?, last_used_at = NULL
    WHERE id = ? AND registration = 'metadata_document' AND revoked_by = 'expiry'`)
  const expire = db.prepare<[number, number, number], string>(
    `UPDATE clients SET revoked_at = ?, revoked_by = 'expiry', revoked_reason = 'registered client unused'
     WHERE registration IN ('dynamic','metadata_document') AND revoked_at IS NULL
       AND ((last_used_at IS NULL AND created_at < ?) OR last_used_at < ?) RETURNING id`,
  ).pluck()
  return {
    async upsertMetadataDocumentClient(c: NewClient): Promise<ClientRecord> {
      const existing = await clients.findById(c.id)
      // Expired for lack of use (not revoked by the owner): admitted again as if new.
      if (existing?.revokedBy === 'expiry') readmit.run(c.createdAt, c.id)
      if (!existing) {
        try {
          await clients.insert(c)
        } catch (error) {
          // Another request inserted it first: fine, refresh below.
          if (!(error instanceof StoreConflictError)) throw error
        }
      }
      update.run({
        id: c.id,
        name: c.name,
        description: c.description,
        scopes: toJson(c.scopes),
        grantTypes: toJson(c.grantTypes),
        redirectUris: toJson(c.redirectUris),
        metadata: toJson(c.metadata),
      })
      return (await clients.findById(c.id))!
    },
    async countActive() {
      return count.get() ?? 0
    },
    async expireUnused({neverUsedBefore, idleBefore, at}) {
      return expire.all(at, neverUsedBefore, idleBefore)
    },
  }
}
