/**
 * rekick's own SSH private key, parsed once per connector instead of once per connection. ssh2 would parse the
 * key file on every connect and sign each login from the key's PEM text (OpenSSL parses it again per signature);
 * at fleet scale that is a large share of rekick's CPU. The parsed key signs through a Node KeyObject made once.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';
import { StepError } from '../errors';

/** Reads and parses the key `ssh.key` names: a path to the private key, or the key itself. */
export async function loadClientKey(k: string | Buffer): Promise<ParsedKey> {
  let bytes: Buffer;
  let source = 'given inline';
  if (Buffer.isBuffer(k)) bytes = k;
  else if (k.includes('-----BEGIN')) bytes = Buffer.from(k);
  else {
    source = k;
    try {
      bytes = await readFile(k);
    } catch (err) {
      throw new StepError('E_SSH_KEY', `cannot read rekick's SSH key ${k}: ${(err as Error).message} (ssh.key in the config)`, {
        cause: err,
      });
    }
  }
  return parseClientKey(bytes, source);
}

/** Parses an OpenSSH or PEM private key (unencrypted: rekick runs unattended); a clear error names `source`. */
export function parseClientKey(key: Buffer, source: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(key);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error) {
    const why = first instanceof Error ? first.message : 'no key found';
    throw new StepError('E_SSH_KEY', `cannot use rekick's SSH key ${source}: ${why} (ssh.key in the config: an unencrypted private key)`);
  }
  if (!first.isPrivateKey()) {
    throw new StepError('E_SSH_KEY', `rekick's SSH key ${source} is a public key; ssh.key must name the private key`);
  }
  return withFastSign(first);
}

/**
 * The same key, signing with a KeyObject. Only where the digest is known without ssh2's internals: ed25519 (none)
 * and any call that names its hash (RSA's rsa-sha2-*). Other calls keep ssh2's own signing.
 */
function withFastSign(key: ParsedKey): ParsedKey {
  const pem = key.getPrivatePEM();
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch {
    return key; // a key type Node cannot load as PEM: ssh2 signs as it always does
  }
  const fast: ParsedKey = Object.create(key);
  // ssh2 returns an Error from sign() instead of throwing (its typings say Buffer only).
  fast.sign = ((data: Buffer | string, algo?: string): Buffer | Error => {
    const digest = algo ?? (key.type === 'ssh-ed25519' ? null : undefined);
    if (digest === undefined) return key.sign(data);
    try {
      return cryptoSign(digest, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch (err) {
      return err as Error;
    }
  }) as ParsedKey['sign'];
  return fast;
}
