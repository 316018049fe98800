// jsdom gives tests a `crypto` without `subtle`, as a browser does outside a secure context (plain
// HTTP, not localhost). Tests that hash switch Node's Web Crypto in: the same API browsers have.
import { createHash, webcrypto } from 'crypto';

const jsdomCrypto = globalThis.crypto;

/** on: Node's Web Crypto; off: jsdom's, without `subtle`. */
export function setWebCrypto(on: boolean) {
  Object.defineProperty(globalThis, 'crypto', { value: on ? webcrypto : jsdomCrypto, configurable: true });
}

/** The reference the browser's hash is checked against: Node's own SHA-1 of the UTF-8 bytes. */
export function nodeSha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}
