/** Koji's keyword arguments: a last struct flagged `__starstar` (koji's encode_args / decode_args). */
import { isStruct, type XmlRpcValue } from './values';

/** Koji's encode_args: keyword arguments become a last struct with `__starstar: true`. */
export function encodeArgs(args: XmlRpcValue[], kwargs?: Record<string, XmlRpcValue | undefined>): XmlRpcValue[] {
  if (!kwargs) return args;
  const defined = Object.entries(kwargs).filter(([, v]) => v !== undefined);
  if (defined.length === 0) return args;
  return [...args, { ...Object.fromEntries(defined), __starstar: true }];
}

/** Koji's decode_args: splits a trailing `__starstar` struct off the positional arguments. */
export function decodeArgs(params: XmlRpcValue[]): { args: XmlRpcValue[]; kwargs: Record<string, XmlRpcValue> } {
  const last = params[params.length - 1];
  if (isStruct(last) && last.__starstar === true) {
    const kwargs: Record<string, XmlRpcValue> = {};
    for (const [k, v] of Object.entries(last)) if (k !== '__starstar' && v !== undefined) kwargs[k] = v;
    return { args: params.slice(0, -1), kwargs };
  }
  return { args: params, kwargs: {} };
}
