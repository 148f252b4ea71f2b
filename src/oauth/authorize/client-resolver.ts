import type {ClientDirectory} from '../client-directory.js'
import {AuthorizePageError} from './errors.js'
import type {ClientResolver} from './request.js'
import type {ClientRecord} from '../../store/types.js'

/**
 * The client of an authorization request: a client in the store, or, for an https `client_id`
 * when client ID metadata documents are on, the client its document describes.
 */
export function createClientResolver({
  clients,
  metadataDocuments,
}: {
  clients: ClientDirectory
  metadataDocuments?: {resolve(url: string, context: {remoteAddress: string}): Promise<ClientRecord>} | undefined
}): ClientResolver {
  return async (clientId, context) => {
    if (clientId.length > 2048) throw new AuthorizePageError(400, 'Unknown application', 'client_id is too long')
    // The page shows the client_id (a metadata document's URL): no control or format characters
    // (bidi overrides and the like, Unicode Cc/Cf/Zl/Zp; see registration/client-metadata.ts).
    if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(clientId)) throw new AuthorizePageError(400, 'Unknown application', 'client_id contains control or invisible characters')
    const client = metadataDocuments && clientId.startsWith('https://') ? await metadataDocuments.resolve(clientId, context) : await clients.get(clientId)
    if (!client || client.revokedAt !== null) {
      throw new AuthorizePageError(400, 'Unknown application', 'this client is not known to this server (or was revoked); nothing was authorized')
    }
    return client
  }
}
