/** JSON columns: lists and objects are stored as JSON text. */
export const toJson = (value: unknown): string => JSON.stringify(value)

export function fromJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback
  return JSON.parse(text) as T
}
