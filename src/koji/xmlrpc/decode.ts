/**
 * Reading XML-RPC: a methodResponse (rekick's side) or a methodCall (the hub stand-in's side), as Python's
 * xmlrpc.client and Koji write them. Anything else is an XmlRpcParseError; a fault is an XmlRpcFault.
 */
import { Reader } from './reader';
import { ParseFailure } from './scalars';
import { XmlRpcFault, XmlRpcParseError, isStruct, type XmlRpcValue } from './values';

/** Decodes a methodResponse: the value, or throws XmlRpcFault (the hub's fault) / XmlRpcParseError. */
export async function decodeMethodResponse(text: string): Promise<XmlRpcValue> {
  const r = new Reader(text);
  try {
    r.prolog();
    r.open('methodResponse');
    if (r.peekOpen('fault')) {
      r.open('fault');
      const fault = r.value(0);
      r.close('fault');
      r.close('methodResponse');
      r.end();
      const struct: Record<string, XmlRpcValue | undefined> = isStruct(fault) ? fault : {};
      const code = struct.faultCode;
      if (typeof code !== 'number' && typeof code !== 'string') throw new ParseFailure('a fault without a faultCode');
      throw new XmlRpcFault(Number(code), String(struct.faultString ?? ''));
    }
    r.open('params');
    r.open('param');
    const value = r.value(0);
    r.close('param');
    r.close('params');
    r.close('methodResponse');
    r.end();
    return value;
  } catch (err) {
    throw asParseError(err, 'not an XML-RPC answer', text);
  }
}

/** Decodes a methodCall: its method name and parameters, or throws XmlRpcParseError. */
export async function decodeMethodCall(text: string): Promise<{ method: string; params: XmlRpcValue[] }> {
  const r = new Reader(text);
  try {
    r.prolog();
    r.open('methodCall');
    r.open('methodName');
    const method = r.text().trim();
    r.close('methodName');
    if (!/^[A-Za-z0-9_.:/]+$/.test(method)) throw new ParseFailure(`a bad method name '${method.slice(0, 80)}'`);
    const params: XmlRpcValue[] = [];
    if (r.peekOpen('params') && !r.open('params')) {
      while (r.peekOpen('param')) {
        r.open('param');
        params.push(r.value(0));
        r.close('param');
      }
      r.close('params');
    }
    r.close('methodCall');
    r.end();
    return { method, params };
  } catch (err) {
    throw asParseError(err, 'not an XML-RPC call', text);
  }
}

function asParseError(err: unknown, what: string, text: string): Error {
  if (err instanceof XmlRpcFault) return err;
  const reason = err instanceof ParseFailure ? err.message : `${(err as Error)?.message ?? String(err)}`;
  return new XmlRpcParseError(`${what} (${reason}): ${text.slice(0, 200)}`, { cause: err });
}
