/** What the hub returns, checked into the shapes rekick types (anything else is a KojiProtocolError). */
import { KojiProtocolError, faultToError, type KojiFault } from './errors';
import type { KojiHost, KojiTask } from './types';
import { isStruct, type XmlRpcValue } from './xmlrpc';

export interface KojiUser {
  id: number;
  name: string;
  status: number;
  usertype: number;
  authtype?: number;
  [key: string]: unknown;
}

export interface MultiCallRequest {
  method: string;
  args?: XmlRpcValue[];
  kwargs?: Record<string, XmlRpcValue | undefined>;
}

export type MultiCallResult = { ok: true; value: XmlRpcValue } | { ok: false; error: KojiFault };

export function toHost(v: XmlRpcValue): KojiHost {
  if (!isStruct(v) || typeof v.id !== 'number' || typeof v.name !== 'string') {
    throw new KojiProtocolError(`the hub returned a host in an unexpected shape: ${JSON.stringify(v)?.slice(0, 200)}`);
  }
  return {
    id: v.id,
    name: v.name,
    arches: String(v.arches ?? ''),
    enabled: Boolean(v.enabled),
    ready: Boolean(v.ready),
    comment: typeof v.comment === 'string' ? v.comment : null,
    description: typeof v.description === 'string' ? v.description : null,
    task_load: typeof v.task_load === 'number' ? v.task_load : undefined,
    capacity: typeof v.capacity === 'number' ? v.capacity : undefined,
  };
}

export function toTask(v: XmlRpcValue): KojiTask {
  if (!isStruct(v) || typeof v.id !== 'number') {
    throw new KojiProtocolError(`the hub returned a task in an unexpected shape: ${JSON.stringify(v)?.slice(0, 200)}`);
  }
  return {
    id: v.id,
    method: String(v.method ?? ''),
    state: Number(v.state),
    host_id: typeof v.host_id === 'number' ? v.host_id : null,
    create_time: typeof v.create_time === 'string' ? v.create_time : undefined,
    start_time: typeof v.start_time === 'string' ? v.start_time : null,
    owner_name: typeof v.owner_name === 'string' ? v.owner_name : undefined,
    arch: typeof v.arch === 'string' ? v.arch : undefined,
  };
}

/** multiCall's answer: per call a one-element list (its value) or a fault struct, in the order sent. */
export function toMultiCallResults(v: XmlRpcValue, calls: MultiCallRequest[]): MultiCallResult[] {
  if (!Array.isArray(v) || v.length !== calls.length) throw new KojiProtocolError(`multiCall returned ${Array.isArray(v) ? v.length : 'no'} results for ${calls.length} calls`);
  return v.map((r, i) => {
    if (Array.isArray(r)) return { ok: true as const, value: r[0] ?? null };
    if (isStruct(r) && typeof r.faultCode === 'number') return { ok: false as const, error: faultToError(r.faultCode, String(r.faultString ?? ''), calls[i]!.method) };
    throw new KojiProtocolError(`multiCall result ${i} has an unexpected shape`);
  });
}
