/** XML-RPC values as rekick holds them, and the two ways reading can fail (a fault, or not XML-RPC at all). */
export type XmlRpcValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Date
  | Buffer
  | XmlRpcValue[]
  | { [key: string]: XmlRpcValue | undefined };

/** A fault as it travels: Koji's code and string. */
export interface XmlRpcFaultValue {
  faultCode: number;
  faultString: string;
}

/** A fault response decoded from the wire (before Koji's typed errors are applied). */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFault';
  }
}

/** The answer is not XML-RPC (an HTML error page, a truncated body...). */
export class XmlRpcParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XmlRpcParseError';
  }
}

export function isStruct(v: unknown): v is Record<string, XmlRpcValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}
