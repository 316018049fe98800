import { CANNOT_HASH, canHash, sha1Hex } from './hash';
import { nodeSha1, setWebCrypto } from './testing/webcrypto';

afterEach(() => setWebCrypto(false));

describe('sha1Hex', () => {
  beforeEach(() => setWebCrypto(true));

  it('hashes as internal/leak does: SHA-1 of the UTF-8 bytes, 40 lower-case hex digits', async () => {
    // the hash the Go tests seed for "password" (plugin/pkg/plugin sha1Password)
    await expect(sha1Hex('password')).resolves.toBe('5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8');
  });

  it.each(['héslo', 'pa$$word', '密码', ' spaces kept ', ''])('%j matches Node', async (text) => {
    await expect(sha1Hex(text)).resolves.toBe(nodeSha1(text));
  });
});

describe('without Web Crypto (plain HTTP, not localhost)', () => {
  it('says it cannot hash, and why', async () => {
    expect(canHash()).toBe(false);
    await expect(sha1Hex('password')).rejects.toThrow(CANNOT_HASH);
  });
});
