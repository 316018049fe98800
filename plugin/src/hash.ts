// Hashing for leak lookups. A password is hashed here, in the browser, so only its SHA-1 enters
// the query model: the model is saved in the panel JSON, encoded in Explore's URL and sent to
// the backend, and a plain password must reach none of them (docs/security.md).

/**
 * Web Crypto exists only in secure contexts: Grafana served over HTTPS or from localhost. Over
 * plain HTTP elsewhere the browser offers no `crypto.subtle` and the password cannot be hashed here.
 */
export function canHash(): boolean {
  return globalThis.crypto?.subtle !== undefined;
}

export const CANNOT_HASH =
  'This browser cannot hash here: Web Crypto needs Grafana over HTTPS or on localhost. ' +
  "Compute the SHA-1 yourself (printf %s 'secret' | sha1sum) and use the SHA-1 or Hash prefix mode.";

/**
 * The SHA-1 of the UTF-8 bytes of text, as 40 lower-case hex digits: how internal/leak hashes a
 * password (leak.HashPassword) and prints a hash (the frame's hash column, `sha1sum`).
 */
export async function sha1Hex(text: string): Promise<string> {
  if (!canHash()) {
    throw new Error(CANNOT_HASH);
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
