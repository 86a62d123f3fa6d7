/**
 * ed25519 key pairs in OpenSSH format. ssh2 1.17's `utils.generateKeyPairSync('ed25519')` writes about one key in
 * 200 with a 31-byte public key (a leading zero byte dropped), which ssh2 itself then refuses ("Malformed OpenSSH
 * public key"); such pairs are thrown away and generated again.
 */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

const { utils } = ssh2; // ssh2 is CommonJS: named exports are not visible to Node's ESM loader
import { CodedError } from '../../src';

export interface SshKeyPair {
  /** OpenSSH private key (PEM). */
  private: string;
  /** `ssh-ed25519 AAAA... comment` */
  public: string;
  /** OpenSSH's SHA256 fingerprint: `SHA256:` + unpadded base64 of the public key blob. */
  fingerprint: string;
}

export function generateEd25519KeyPair(comment = ''): SshKeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', comment ? { comment } : undefined);
    const pub = utils.parseKey(pair.public);
    const priv = utils.parseKey(pair.private);
    if (pub instanceof Error || priv instanceof Error || Array.isArray(pub)) continue;
    const blob = pub.getPublicSSH();
    const fromPrivate = (Array.isArray(priv) ? priv[0] : priv)?.getPublicSSH();
    if (!fromPrivate || !blob.equals(fromPrivate)) continue;
    return { private: pair.private, public: pair.public, fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
  }
  throw new CodedError('E_SIM_KEY', 'could not generate a usable ed25519 key pair in 20 attempts');
}
