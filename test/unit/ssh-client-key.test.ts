/**
 * rekick's SSH key is parsed once and signs through a KeyObject: its signatures must verify exactly as ssh2's own
 * (ed25519 without a digest, RSA with the digest ssh2 names), other calls fall back to ssh2, and a key rekick
 * cannot use is refused with E_SSH_KEY naming where it came from.
 */
import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { parseClientKey } from '../../src/ssh/client-key';
import { generateEd25519KeyPair } from '../../lab/fleet/ssh-keys';

const data = Buffer.from('session id and userauth request');

function publicOf(pub: string) {
  const parsed = ssh2.utils.parseKey(pub);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('bad public key');
  return parsed;
}

describe("rekick's SSH client key", () => {
  it('ed25519: signs without ssh2 re-parsing the key, and the signature verifies', () => {
    const pair = generateEd25519KeyPair('rekick');
    const key = parseClientKey(Buffer.from(pair.private), '/etc/rekick/id_ed25519');
    expect(key.type).toBe('ssh-ed25519');
    expect(key.isPrivateKey()).toBe(true);
    const sig = key.sign(data);
    expect(sig).toBeInstanceOf(Buffer);
    expect(publicOf(pair.public).verify(data, sig)).toBe(true);
    expect(key.getPublicSSH().equals(publicOf(pair.public).getPublicSSH())).toBe(true);
  });

  it('RSA: signs with the digest ssh2 asks for (rsa-sha2-512), and falls back to ssh2 when none is named', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const key = parseClientKey(Buffer.from(pem), 'inline');
    const original = ssh2.utils.parseKey(pem) as ReturnType<typeof publicOf>;
    const sig512 = key.sign(data, 'sha512');
    expect(original.verify(data, sig512, 'sha512')).toBe(true);
    expect(key.sign(data).equals(original.sign(data))).toBe(true); // RSA PKCS#1 v1.5 is deterministic
  });

  it('refuses what is not a usable private key, naming the source', () => {
    expect(() => parseClientKey(Buffer.from('not a key'), '/etc/rekick/id_ed25519')).toThrow(
      expect.objectContaining({ code: 'E_SSH_KEY', message: expect.stringContaining('/etc/rekick/id_ed25519') }),
    );
    const pair = generateEd25519KeyPair();
    expect(() => parseClientKey(Buffer.from(pair.public), '/etc/rekick/id_ed25519.pub')).toThrow(/is a public key/);
  });
});
