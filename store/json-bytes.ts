/**
 * The compact JSON bytes of stored objects, cached by identity: each job, host record and audit entry is
 * serialized once, when first written, and its bytes reused by every later write (stored objects are never
 * changed in place).
 */

export const COMMA = Buffer.from(',');
export const NULL = Buffer.from('null');

/** Serialized stored objects, by identity: an object replaced in the store drops out with it. */
const serialized = new WeakMap<object, Buffer>();

/** The compact JSON bytes of a stored object (serialized once per object; stored objects never change in place). */
export function jsonBytes(value: object): Buffer {
  let bytes = serialized.get(value);
  if (!bytes) serialized.set(value, (bytes = ownBytes(JSON.stringify(value))));
  return bytes;
}

/** The members of a JSON array of stored objects, comma-separated (their cached bytes). */
export function pushList(chunks: Buffer[], entries: readonly object[]): void {
  entries.forEach((entry, i) => {
    if (i > 0) chunks.push(COMMA);
    chunks.push(jsonBytes(entry));
  });
}

/**
 * Drops an object's cached bytes: a job moved to the history file is not written again (unless the history is
 * rewritten, which serializes it anew), and a long-running bot keeps up to `keepFinishedPerHost` jobs per host in
 * memory — their bytes would double what they take.
 */
export function forgetBytes(value: object): void {
  serialized.delete(value);
}

/** `"name":{...}` of an object member whose value is a stored object, cached like jsonBytes (by the value). */
const members = new WeakMap<object, { name: string; bytes: Buffer }>();

export function memberBytes(name: string, value: object): Buffer {
  const cached = members.get(value);
  if (cached?.name === name) return cached.bytes;
  const bytes = ownBytes(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  members.set(value, { name, bytes });
  return bytes;
}

/**
 * A string's UTF-8 bytes in a buffer of their own. `Buffer.from` puts anything under 4 KiB in a shared 8 KiB pool
 * slab, and a slab lives as long as any piece of it does: the cached bytes of finished jobs and host records,
 * kept for the life of the object, would each pin a slab (~15 MB over a 1,000-host run).
 */
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}
