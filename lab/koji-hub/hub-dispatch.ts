/**
 * kojixmlrpc's dispatch: a method name to its handler (./hub-methods), multiCall (every inner call on its own, a
 * fault is a struct in the results), and any other error as Koji's plain fault.
 */
import type { Logger } from 'pino';
import { decodeArgs, isStruct, type XmlRpcValue } from '../../src';
import type { HubCallRecord } from './hub-api';
import { METHODS, callMethod, type CallContext } from './hub-methods';
import { FAULT, HubFault } from './hub-state';

export function isMultiCall(method: string): boolean {
  return method === 'multiCall' || method === 'system.multicall';
}

/** kojixmlrpc resolves the handler before it looks at the session. */
export function requireKnownMethod(method: string): void {
  if (!Object.hasOwn(METHODS, method)) throw new HubFault(FAULT.GenericError, `Invalid method: ${method}`);
}

export function dispatch(method: string, params: XmlRpcValue[], ctx: CallContext): XmlRpcValue {
  const { args, kwargs } = decodeArgs(params);
  return callMethod(method, args, kwargs, ctx);
}

/** Runs a multiCall; records each inner call in `calls` and pushes its method name to `names`. */
export function multiCall(params: XmlRpcValue[], ctx: CallContext, calls: HubCallRecord[], names: string[], log: Logger): XmlRpcValue {
  const { args } = decodeArgs(params);
  const list = args[0];
  if (!Array.isArray(list)) throw new HubFault(FAULT.ParameterError, "multiCall() missing 1 required positional argument: 'calls'");
  return list.map((c) => {
    const inner = isStruct(c) ? c : {};
    const method = String(inner.methodName ?? '');
    const p = Array.isArray(inner.params) ? inner.params : [];
    names.push(method);
    const rec: HubCallRecord = { method, params: p, path: '/kojihub', tlsVersion: null, inMultiCall: true, sessionId: ctx.session?.id, user: ctx.user?.name, at: new Date() };
    calls.push(rec);
    try {
      if (isMultiCall(method)) throw new HubFault(FAULT.GenericError, 'multicall not allowed in multicall');
      return [dispatch(method, p, ctx)];
    } catch (err) {
      const f = asFault(err, log);
      rec.fault = f;
      return { faultCode: f.faultCode, faultString: f.faultString };
    }
  });
}

export function asFault(err: unknown, log: Logger): { faultCode: number; faultString: string } {
  if (err instanceof HubFault) return { faultCode: err.faultCode, faultString: err.faultString };
  log.error({ err }, 'hub stand-in internal error');
  return { faultCode: FAULT.plain, faultString: `<class 'Exception'>: ${(err as Error)?.message ?? String(err)}` };
}
