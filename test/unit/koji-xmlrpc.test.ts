import { describe, expect, it } from 'vitest';
import {
  XmlRpcFault,
  XmlRpcParseError,
  decodeArgs,
  encodeArgs,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  encodeValue,
} from '../../src/koji/xmlrpc';
import { decodeMethodCall, decodeMethodResponse } from '../../src/koji/xmlrpc';
import {
  KojiActionNotAllowed,
  KojiAuthError,
  KojiAuthExpired,
  KojiFault,
  KojiGenericError,
  KojiHubException,
  KojiParameterError,
  KojiRetryError,
  KojiSequenceError,
  KojiServerOffline,
  faultToError,
} from '../../src/koji/errors';
import { isRetryable } from '../../src/errors';

describe('XML-RPC codec', () => {
  it('writes nil, booleans, doubles, escaped strings and 32/64-bit integers as Koji expects', () => {
    expect(encodeValue(null)).toBe('<value><nil/></value>');
    expect(encodeValue(true)).toBe('<value><boolean>1</boolean></value>');
    expect(encodeValue(1.5)).toBe('<value><double>1.5</double></value>');
    expect(encodeValue(2 ** 31 - 1)).toBe('<value><int>2147483647</int></value>');
    expect(encodeValue(2 ** 31)).toBe('<value><i8>2147483648</i8></value>');
    expect(encodeValue(-(2n ** 40n))).toBe('<value><i8>-1099511627776</i8></value>');
    expect(encodeValue('a<b & c>')).toBe('<value><string>a&lt;b &amp; c&gt;</string></value>');
    expect(() => encodeValue(2n ** 63n)).toThrow(/64-bit/);
    expect(encodeValue({ a: 1, skip: undefined })).toBe('<value><struct><member><name>a</name><value><int>1</int></value></member></struct></value>');
  });

  it('round-trips a call: nil, i8, nested structs and arrays, unicode', async () => {
    const params = [null, 2 ** 40, 2n ** 62n, { host_id: 3, state: [1, 4], c: 'énorme ✓', n: null }, [true, false], '', 0.25];
    const { method, params: back } = await decodeMethodCall(encodeMethodCall('listTasks', params));
    expect(method).toBe('listTasks');
    expect(back).toEqual([null, 2 ** 40, 2n ** 62n, { host_id: 3, state: [1, 4], c: 'énorme ✓', n: null }, [true, false], '', 0.25]);
  });

  it('reads what Python writes: untyped values are strings, <nil/>, <i8>, dateTime', async () => {
    const xml = `<?xml version='1.0'?>
<methodResponse><params><param><value><struct>
<member><name>id</name><value><int>7</int></value></member>
<member><name>name</name><value>buildarm-03</value></member>
<member><name>comment</name><value><nil/></value></member>
<member><name>big</name><value><i8>9007199254740993</i8></value></member>
<member><name>when</name><value><dateTime.iso8601>20240131T12:34:56</dateTime.iso8601></value></member>
</struct></value></param></params></methodResponse>`;
    const v = (await decodeMethodResponse(xml)) as Record<string, unknown>;
    expect(v).toMatchObject({ id: 7, name: 'buildarm-03', comment: null, big: 9007199254740993n });
    expect(v.when).toBeInstanceOf(Date);
  });

  it('reads faults and refuses what is not XML-RPC', async () => {
    await expect(decodeMethodResponse(encodeFault(1007, 'session "3" has expired'))).rejects.toEqual(new XmlRpcFault(1007, 'session "3" has expired'));
    await expect(decodeMethodResponse('<html><body>Bad gateway</body></html>')).rejects.toBeInstanceOf(XmlRpcParseError);
    expect(await decodeMethodResponse(encodeMethodResponse(null))).toBeNull();
  });

  it("encodes keyword arguments as Koji's encode_args does, and decodes them back", () => {
    expect(encodeArgs(['buildarm-03'], { comment: 'x', skipped: undefined })).toEqual(['buildarm-03', { comment: 'x', __starstar: true }]);
    expect(encodeArgs(['a'], {})).toEqual(['a']);
    expect(encodeArgs(['a'], { only: undefined })).toEqual(['a']);
    expect(decodeArgs(['h', { comment: 'x', __starstar: true }])).toEqual({ args: ['h'], kwargs: { comment: 'x' } });
    expect(decodeArgs([{ state: [1] }, { countOnly: true }])).toEqual({ args: [{ state: [1] }, { countOnly: true }], kwargs: {} });
  });
});

describe('Koji faults as typed errors', () => {
  it.each([
    [1, KojiHubException, 'E_KOJI_HUB'],
    [1000, KojiGenericError, 'E_KOJI_GENERIC'],
    [1002, KojiAuthError, 'E_KOJI_AUTH'],
    [1004, KojiActionNotAllowed, 'E_KOJI_NOT_ALLOWED'],
    [1007, KojiAuthExpired, 'E_KOJI_AUTH_EXPIRED'],
    [1008, KojiSequenceError, 'E_KOJI_SEQUENCE'],
    [1009, KojiRetryError, 'E_KOJI_RETRY'],
    [1014, KojiServerOffline, 'E_KOJI_OFFLINE'],
    [1019, KojiParameterError, 'E_KOJI_PARAMETER'],
  ] as const)('fault %i is %o (%s)', (code, cls, coded) => {
    const e = faultToError(code, 'words of the hub', 'disableHost');
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(KojiFault);
    expect(e.faultCode).toBe(code);
    expect(e.code).toBe(coded);
    expect(e.message).toContain('Koji hub refused disableHost: words of the hub');
  });

  it('keeps unknown codes as KojiFault; only ServerOffline and AuthExpired count as retryable', () => {
    const e = faultToError(1005, 'build failed', 'x');
    expect(e.constructor).toBe(KojiFault);
    expect(isRetryable(faultToError(1014, 'offline', 'x'))).toBe(true);
    expect(isRetryable(faultToError(1004, 'no', 'x'))).toBe(false);
  });

  it('tells the operator which permission to grant', () => {
    expect(faultToError(1004, 'host permission required (logged in as rekick)', 'disableHost').message).toMatch(/needs the host permission: koji grant-permission host USER/);
    expect(faultToError(1004, 'admin permission required (logged in as rekick)', 'freeTask').message).toMatch(/admin permission.*ask a Koji admin/);
  });
});
