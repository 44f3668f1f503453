/**
 * A key template placeholder that cannot be resolved, or a key that cannot be built.
 *
 * @example
 * cache(60, { key: 'user:{nope}' })(async (id: number, region: string) => …) // throws at decoration
 */
export class KeyTemplateError extends Error {
  override name = 'KeyTemplateError'
}

/**
 * A value (or argument) that a serializer or key encoder cannot represent.
 *
 * @example
 * serializers.json.dumps(new Map()) // SerializationError: serializers.json cannot represent a Map at $ …
 */
export class SerializationError extends Error {
  override name = 'SerializationError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * Bytes that are not a valid wire-format entry (too short, or the value does not decode).
 *
 * @example
 * decodeEntry(new Uint8Array(3), serializers.json) // WireFormatError: entry is 3 bytes, shorter than the 16-byte header
 */
export class WireFormatError extends Error {
  override name = 'WireFormatError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** An operation that did not finish within its deadline. */
export class TimeoutError extends Error {
  override name = 'TimeoutError'
}
