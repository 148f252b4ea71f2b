/** JSON columns (both backends): lists and objects are stored as JSON text. */
export const toJson = (value: unknown): string => JSON.stringify(value)

export function fromJson<T>(text: string | null, fallback: T): T {
  // Most lists are empty: no parse for those.
  if (text === null || text === '[]' || text === '{}') return fallback
  return JSON.parse(text) as T
}
